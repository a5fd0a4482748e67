Feature: Message templates — writing to a customer after WhatsApp's 24-hour window
  As the manager of a small business on WhatsApp,
  I want to keep our message templates, have WhatsApp review them and send them with their blanks filled in,
  so that we can still reach a customer who has not written for a day, the one way WhatsApp allows.

  A template belongs to one WhatsApp account and one language; its body has numbered blanks {{1}}, {{2}} …
  Owners and managers create, change and submit templates; everyone who answers customers may send them.
  WhatsApp Cloud (Meta) reviews a submitted template and says so by webhook: approved, rejected (with the
  reason), paused or disabled. Twilio templates are made and approved in Twilio and registered here by their
  ContentSid. Outside the 24 hours after the customer's last message, only an approved template goes, with
  every blank filled in; a blocked send names the rule and sends nothing. Every change of a template's status is
  one of the team's events, which the live stream carries to every member.

  Background:
    Given a team "Bakery" owned by "Olivia"
    And "Max" is an agent of "Bakery"
    And "Bakery" has a WhatsApp Cloud account
    And "Ana" last wrote to "Bakery" 2 days ago

  Rule: owners and managers keep the templates

    Scenario: the owner writes a template; it is a draft until submitted
      When "Olivia" writes the template "order_shipped" in "en_US": "Hi {{1}}, order {{2}} has shipped"
      Then it is allowed
      And the template "order_shipped" is draft, with 2 blanks

    Scenario: an agent may not write templates
      When "Max" writes the template "order_shipped" in "en_US": "Hi {{1}}"
      Then it is refused

    Scenario Outline: a template WhatsApp would refuse is refused at once (<problem>)
      When "Olivia" writes the template "<name>" in "<language>": "<body>"
      Then it is invalid, naming "<field>"

      Examples:
        | problem              | name          | language | body        | field    |
        | capitals in the name | Order Shipped | en_US    | Hi {{1}}    | name     |
        | not a language code  | order_shipped | english  | Hi {{1}}    | language |
        | a blank is skipped   | order_shipped | en_US    | Hi {{2}}    | body     |
        | a blank not numbered | order_shipped | en_US    | Hi {{name}} | body     |

  Rule: WhatsApp reviews a submitted template, and its verdict arrives by webhook

    Scenario Outline: WhatsApp's verdict: <event>
      Given "Olivia" submitted the template "order_shipped": "Hi {{1}}, order {{2}} has shipped"
      And the template "order_shipped" is pending
      When WhatsApp reports the template "order_shipped" <event>
      Then the template "order_shipped" is <status>
      And the team's events show the template "order_shipped" pending, then <status>

      Examples:
        | event                       | status                              |
        | APPROVED                    | approved                            |
        | REJECTED for INVALID_FORMAT | rejected, because of INVALID_FORMAT |
        | PAUSED                      | paused                              |
        | DISABLED                    | disabled                            |

    Scenario: the same verdict delivered twice is recorded once
      Given "Olivia" submitted the template "order_shipped": "Hi {{1}}"
      When WhatsApp reports the template "order_shipped" APPROVED
      And WhatsApp reports the template "order_shipped" APPROVED
      Then the team's events show the template "order_shipped" pending, then approved

  Rule: after 24 hours only an approved template goes, with every blank filled in

    Scenario: a plain message is blocked
      When "Max" sends "Are you still there?" to "Ana"
      Then it is blocked because "window_closed_template_required"
      And nothing was sent to "Ana"

    Scenario: an approved template goes out with its blanks filled in
      Given the template "order_shipped" is approved: "Hi {{1}}, order {{2}} has shipped"
      When "Max" sends the template "order_shipped" to "Ana" with "Ana", "#1042"
      Then it is allowed
      And the thread of "Ana" ends with "Hi Ana, order #1042 has shipped"
      And WhatsApp was asked to send the template "order_shipped" in "en_US" with "Ana", "#1042"

    Scenario Outline: a send that breaks a rule is blocked (<case>)
      Given the template "order_shipped" is <status>: "Hi {{1}}, order {{2}} has shipped"
      When "Max" sends the template "order_shipped" to "Ana" with <values>
      Then it is blocked because "<reason>"
      And nothing was sent to "Ana"

      Examples:
        | case             | status   | values           | reason                      |
        | not reviewed yet | pending  | "Ana", "#1042"   | template_not_approved       |
        | rejected         | rejected | "Ana", "#1042"   | template_not_approved       |
        | paused           | paused   | "Ana", "#1042"   | template_not_approved       |
        | a blank missing  | approved | "Ana"            | template_variables_mismatch |
        | a blank too many | approved | "Ana", "#1", "x" | template_variables_mismatch |
        | an empty blank   | approved | "Ana", " "       | template_variables_mismatch |

    Scenario: a template that does not exist is not found
      When "Max" sends a template that does not exist to "Ana"
      Then it is not found

  Rule: Twilio templates are Content templates, registered by their ContentSid

    Scenario: a Content template is registered and approved by the manager's word
      Given "Bakery" has a Twilio account
      When "Olivia" registers the Twilio template "HX0123456789abcdef0123456789abcdef": "See you {{1}} at {{2}}"
      Then it is allowed
      And the template "appointment" is approved, with 2 blanks

    Scenario: a Twilio template needs its ContentSid
      Given "Bakery" has a Twilio account
      When "Olivia" registers the Twilio template "not-a-sid": "See you {{1}}"
      Then it is invalid, naming "providerTemplateId"

  Rule: Instagram has no templates

    Scenario: a template for an Instagram account is refused
      Given "Bakery" has an Instagram account
      When "Olivia" writes the Instagram template "hello" in "en": "Hi!"
      Then it is invalid, naming "accountId"
