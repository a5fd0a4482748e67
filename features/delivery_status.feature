Feature: Delivery status — how far the business's messages got
  As an agent of a small business,
  I want each message we sent to show how far it got (sent, delivered, read) or why it failed,
  so that I know whether the customer saw it, and what to do when it did not arrive.

  The provider reports each status of an outbound message in its own webhook, and webhooks arrive in
  any order. A message's status only moves forward (sent < delivered < read); failed is final; a read
  implies delivery.

  Rule: the final status does not depend on the order in which statuses arrive

    Scenario Outline: <provider> reports <arrivals>
      Given the team has connected a <provider> account
      And the business sent "Your order is ready" to "Ana Souza" through <provider>
      When <provider> reports <arrivals> for "Your order is ready"
      Then the status of "Your order is ready" is <final>

      Examples: in order
        | provider       | arrivals              | final     |
        | WhatsApp Cloud | sent                  | sent      |
        | WhatsApp Cloud | sent, delivered       | delivered |
        | WhatsApp Cloud | sent, delivered, read | read      |
        | Twilio         | sent, delivered, read | read      |

      Examples: out of order
        | provider       | arrivals              | final     |
        | WhatsApp Cloud | read, delivered       | read      |
        | WhatsApp Cloud | delivered, sent       | delivered |
        | WhatsApp Cloud | read, sent, delivered | read      |
        | Twilio         | read, delivered, sent | read      |

      Examples: a failure is final
        | provider       | arrivals              | final     |
        | WhatsApp Cloud | sent, failed          | failed    |
        | WhatsApp Cloud | failed, delivered     | failed    |
        | WhatsApp Cloud | failed, read          | failed    |
        | WhatsApp Cloud | failed, sent, failed  | failed    |
        | Twilio         | sent, failed          | failed    |
        | Twilio         | failed, delivered     | failed    |

    Scenario: a read without a delivered still counts as delivered
      Given the team has connected a WhatsApp Cloud account
      And the business sent "Your order is ready" to "Ana Souza" through WhatsApp Cloud
      When WhatsApp Cloud reports read for "Your order is ready"
      Then the status of "Your order is ready" is read
      And "Your order is ready" was delivered when it was read

  Rule: a status that arrives before its message is applied when the message appears

    Scenario Outline: <provider> reports <arrivals> before the message reaches the inbox
      Given the team has connected a <provider> account
      When <provider> reports <arrivals> for "See you tomorrow"
      And the business sends "See you tomorrow" to "Ana Souza" from the <app>
      Then the status of "See you tomorrow" is <final>

      Examples: providers
        | provider       | app                   | arrivals        | final     |
        | WhatsApp Cloud | WhatsApp Business app | delivered       | delivered |
        | WhatsApp Cloud | WhatsApp Business app | delivered, read | read      |
        | WhatsApp Cloud | WhatsApp Business app | failed          | failed    |
        | Instagram      | Instagram app         | read            | read      |

  Rule: a failed message keeps the provider's error code and title

    Scenario Outline: <provider> reports the error <code>
      Given the team has connected a <provider> account
      And the business sent "Hi again" to "Ana Souza" through <provider>
      When <provider> reports that "Hi again" failed with the error <code>
      Then the status of "Hi again" is failed
      And "Hi again" keeps the error <code> "<title>"

      Examples: WhatsApp Cloud
        | provider       | code   | title                                                                                                                                 |
        | WhatsApp Cloud | 131047 | Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number. |
        | WhatsApp Cloud | 131026 | Message undeliverable                                                                                                                 |

      Examples: Twilio
        | provider       | code   | title                                                                                                                                 |
        | Twilio         | 63016  | Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.  |
