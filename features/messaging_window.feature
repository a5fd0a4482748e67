Feature: The messaging window — how long after a customer's message a business may write freely
  As a small business,
  I want to know before sending whether a message may go out,
  so that no send fails at the provider and our number keeps its standing.

  WhatsApp (the Cloud API and Twilio) lets a business write freely for 24 hours after the customer's last
  message; after that only an approved template may go. Instagram also opens 24 hours, and a person of the
  team (never an automation) may still answer for 7 days, the message tagged HUMAN_AGENT. A linked phone
  (WhatsApp Web) has no window. A refused reply names the rule and queues nothing.

  Background:
    Given a team "Bakery" owned by "Olivia" in "UTC" with quiet hours 22:00-06:00
    And "Max" is an agent of "Bakery"

  Rule: on WhatsApp, 24 hours after the customer's last message only a template may go

    Scenario Outline: Max answers on <provider> <elapsed> after Ana wrote
      Given "Ana" wrote to "Bakery" through <provider> <elapsed> before 2026-11-24 12:00
      When "Max" replies to "Ana" at 2026-11-24 12:00
      Then the reply <outcome>

      Examples:
        | provider       | elapsed | outcome                                         |
        | WhatsApp Cloud | 23h59m  | goes out now                                    |
        | WhatsApp Cloud | 24h01m  | is refused for window_closed_template_required  |
        | Twilio         | 23h59m  | goes out now                                    |
        | Twilio         | 24h01m  | is refused for window_closed_template_required  |

  Rule: on Instagram a person may answer for 7 days, tagged HUMAN_AGENT

    Scenario Outline: Max answers on Instagram <elapsed> after Ana wrote
      Given "Ana" wrote to "Bakery" through Instagram <elapsed> before 2026-11-24 12:00
      When "Max" replies to "Ana" at 2026-11-24 12:00
      Then the reply <outcome>

      Examples:
        | elapsed | outcome                             |
        | 23h59m  | goes out now                        |
        | 6d      | goes out now tagged HUMAN_AGENT     |
        | 8d      | is refused for window_closed        |

  Rule: a linked phone has no window

    Scenario: Max answers through WhatsApp Web 8 days after Ana wrote
      Given "Ana" wrote to "Bakery" through WhatsApp Web 8d before 2026-11-24 12:00
      When "Max" replies to "Ana" at 2026-11-24 12:00
      Then the reply goes out now
