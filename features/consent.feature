Feature: Consent — who may be messaged, and the audit trail of every change
  As the owner of a small business that messages its customers on WhatsApp and Instagram,
  I want every opt-in and opt-out kept per customer and channel, STOP and START honoured in the
  customer's language, and a tamper-evident log of who changed what,
  so that we never message someone who asked us to stop, and can show it.

  The consent ledger keeps one record per change (status, source, time); the latest one counts. A customer
  who writes only a keyword (STOP, BAJA, SAIR … ; START, ALTA, VOLTAR …) changes their consent; a message
  that merely contains the word does not. An opt-in keyword only undoes an opt-out. An opted-out customer gets
  nothing; a refused send writes nothing but its audit entry. Every change and every refused send is an entry
  of the team's hash-chained audit log (docs/audit.md).

  Background:
    Given the team has connected a WhatsApp Cloud account
    And "Ana Souza" sends "Hi, is the shop open today?" from +5511987654321 through WhatsApp Cloud

  Rule: members record consent through the API, and read it back

    Scenario: a customer nobody asked has no consent on record
      Then the consent of "Ana Souza" is unknown

    Scenario: an agent records the opt-in a customer gave on a form
      When an agent records "Ana Souza" as opted_in from "checkout form"
      Then the consent of "Ana Souza" is opted_in from "checkout form"
      And the audit log lists "account.connected, consent.set" and its chain verifies

  Rule: a keyword the customer writes changes their consent

    Scenario Outline: "<message>" opts the customer out, and a reply is refused
      When "Ana Souza" sends "<message>" from +5511987654321 through WhatsApp Cloud
      Then the consent of "Ana Souza" is opted_out from "keyword:<word>"
      When an agent replies "We have a sale today" to "Ana Souza"
      Then the send is refused because opted_out
      And the audit log lists "account.connected, consent.keyword, send.blocked" and its chain verifies

      Examples: English, Spanish and Portuguese defaults
        | message      | word     |
        | STOP         | STOP     |
        | Stop!        | STOP     |
        | unsubscribe  | UNSUBSCRIBE |
        | ¡Baja!       | BAJA     |
        | Cancelar.    | CANCELAR |
        | sair         | SAIR     |

    Scenario: START after STOP opts the customer back in and replies go out again
      When "Ana Souza" sends "STOP" from +5511987654321 through WhatsApp Cloud
      And "Ana Souza" sends "Start" from +5511987654321 through WhatsApp Cloud
      Then the consent of "Ana Souza" is opted_in from "keyword:START"
      When an agent replies "Welcome back!" to "Ana Souza"
      Then the reply is queued

    Scenario: a message that only mentions a keyword changes nothing
      When "Ana Souza" sends "Please stop by tomorrow" from +5511987654321 through WhatsApp Cloud
      Then the consent of "Ana Souza" is unknown

    Scenario: a YES is not a first opt-in
      When "Ana Souza" sends "Yes" from +5511987654321 through WhatsApp Cloud
      Then the consent of "Ana Souza" is unknown

    Scenario: the provider delivering the STOP webhook again records it once
      When "Ana Souza" sends "STOP" from +5511987654321 through WhatsApp Cloud
      And the provider delivers that webhook again
      Then the audit log lists "account.connected, consent.keyword" and its chain verifies

    Scenario: a team's own words replace that language's defaults
      Given the team's Spanish opt-out words are "CHAO, NO MAS"
      When "Ana Souza" sends "Baja" from +5511987654321 through WhatsApp Cloud
      Then the consent of "Ana Souza" is unknown
      When "Ana Souza" sends "No más" from +5511987654321 through WhatsApp Cloud
      Then the consent of "Ana Souza" is opted_out from "keyword:NO MAS"

  Rule: the provider's opt-out error is recorded

    Scenario: Twilio refuses a send with the error 21610
      Given the team has connected a Twilio account
      When "Bruno Lima" sends "Oi, tudo bem?" from +5521998765432 through Twilio
      And an agent replies "Our sale starts today" to "Bruno Lima" and Twilio refuses it with the error 21610
      Then the consent of "Bruno Lima" is opted_out from "provider error 21610"
      And the last audit entry is "consent.provider_opt_out" by "provider"
      When an agent replies "Are you there?" to "Bruno Lima"
      Then the send is refused because opted_out
