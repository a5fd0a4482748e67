Feature: Rate caps — sending no faster than the provider allows
  As the owner of a business account,
  I want our replies to go out no faster than our provider accepts,
  so that a busy hour never gets our number throttled or blocked, and no reply is lost to a limit.

  Each account has a cap on messages per second (its own setting, or its provider's default: 80/s on
  WhatsApp), and each customer of an account a cap of its own (Meta's pair limit: 1 message every
  6 seconds after a burst of 10). Caps are checked by the send job, in PostgreSQL, so every worker
  shares them. A send over a cap waits for the instant the cap allows it: it is deferred, never failed.

  Background:
    Given a WhatsApp Cloud account whose customers wrote in the last minutes

  Rule: an account sends no more than its cap

    Scenario: a burst beyond the account's cap waits its turn
      Given the account's cap is 2 messages per second with a burst of 1
      When the business replies to 4 different customers at the same instant
      And the send job runs
      Then 1 reply has gone to the provider
      And 3 replies wait, none failed
      When the send job runs every time the cap allows, 3 times
      Then 4 replies have gone to the provider, in the order they were written

    Scenario: a cap with a burst lets that many go at once
      Given the account's cap is 2 messages per second with a burst of 3
      When the business replies to 4 different customers at the same instant
      And the send job runs
      Then 3 replies have gone to the provider
      And 1 reply waits, none failed

    Scenario: a cap that is not a positive rate is refused
      When the owner sets the account's cap to 0 messages per second
      Then the cap is refused naming "rateCap.perSecond"

  Rule: one customer gets no more than the pair limit, and others are not held back

    Scenario: a customer flooded with replies waits, another customer does not
      When the business sends 11 replies to one customer and 1 to another
      And the send job runs
      Then 11 replies have gone to the provider
      And the 11th reply to the first customer waits 6 seconds
