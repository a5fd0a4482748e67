Feature: Inbound WhatsApp — customers' messages reach the team's inbox
  As an agent of a small business,
  I want every WhatsApp message a customer sends us to land, exactly once, in one thread with that customer,
  so that I can answer each customer from one place without missing or repeating anything.

  A team connects a WhatsApp account through the WhatsApp Cloud API (Meta) or through Twilio. The provider
  tells the inbox about each message with a signed webhook; the message joins the thread between that
  account and the contact who wrote it. A contact is known by their phone number (E.164) and WhatsApp id.

  Rule: a customer's first message opens a thread with the contact's name and phone

    Scenario Outline: a text arrives through <provider>
      Given the team has connected a <provider> account
      When "Ana Souza" sends "Olá, tudo bem?" from +5511987654321 through <provider>
      Then the message "Olá, tudo bem?" is kept as an inbound text message
      And its thread is open on the whatsapp channel
      And the contact of "Olá, tudo bem?" is "Ana Souza" with the phone +5511987654321

      Examples: providers
        | provider       |
        | WhatsApp Cloud |
        | Twilio         |

  Rule: every message in a webhook is kept

    Background:
      Given the team has connected a WhatsApp Cloud account

    Scenario Outline: one webhook brings <count> messages
      When one webhook brings <count> messages from "Ana Souza"
      Then the thread with "Ana Souza" holds <count> messages

      Examples: batches
        | count |
        | 1     |
        | 2     |
        | 25    |

  Rule: a webhook the provider delivers again is kept once

    Scenario Outline: <provider> delivers <delivery>
      Given the team has connected a <provider> account
      When "Ana Souza" sends "Olá" from +5511987654321 through <provider>
      And <provider> delivers <delivery>
      Then every webhook was answered 200
      And the thread with "Ana Souza" holds 1 message

      Examples: the same webhook twice
        | provider       | delivery                                 |
        | WhatsApp Cloud | the same webhook again                   |
        | Twilio         | the same webhook again                   |

      Examples: the same message in a new envelope
        | provider       | delivery                                 |
        | WhatsApp Cloud | the same message again in another webhook |

  Rule: one person is one contact, with or without Brazil's ninth digit

    Scenario Outline: the same person writes from <first> and <second>
      Given the team has connected a <provider> account
      When "Ana Souza" sends "first" from <first> through <provider>
      And "Ana Souza" sends "second" from <second> through <provider>
      Then the messages "first" and "second" are in one thread with one contact

      Examples: one Brazilian mobile, written both ways
        | provider       | first          | second         |
        | WhatsApp Cloud | +5511987654321 | +551187654321  |
        | WhatsApp Cloud | +551187654321  | +5511987654321 |
        | Twilio         | +5511987654321 | +551187654321  |

    Scenario Outline: different numbers are different contacts
      Given the team has connected a WhatsApp Cloud account
      When "Ana Souza" sends "first" from <first> through WhatsApp Cloud
      And "Bia Lima" sends "second" from <second> through WhatsApp Cloud
      Then the messages "first" and "second" are in 2 threads with 2 contacts

      Examples: numbers that only look alike
        | first          | second         |
        | +5511987654321 | +5511987654322 |
        | +5511987654321 | +5521987654321 |
        | +5511987654321 | +5511887654321 |

  Rule: a new contact whose phone is a client's is linked to that client

    Background:
      Given the team has connected a WhatsApp Cloud account
      And the team has a client "Carla Dias" with the phone +5511987654321

    Scenario Outline: a customer writes from <phone>
      When "Carla" sends "oi" from <phone> through WhatsApp Cloud
      Then the contact of "oi" <is linked> the client "Carla Dias"

      Examples: the client's phone
        | phone          | is linked        |
        | +5511987654321 | is linked to     |

      Examples: the client's phone without Brazil's ninth digit
        | phone          | is linked        |
        | +551187654321  | is linked to     |

      Examples: another phone
        | phone          | is linked        |
        | +5511987654329 | is not linked to |

  Rule: a new message from the customer reopens a closed thread

    Background:
      Given the team has connected a WhatsApp Cloud account
      And "Ana Souza" sent "first" from +5511987654321 through WhatsApp Cloud

    Scenario Outline: the customer writes again to a <status> thread
      Given the team marked the thread of "first" <status>
      When "Ana Souza" sends "again" from +5511987654321 through WhatsApp Cloud
      Then the messages "first" and "again" are in one thread with one contact
      And the thread of "again" is open

      Examples: closed threads
        | status   |
        | resolved |
        | snoozed  |
        | pending  |

      Examples: a thread that is already open
        | status |
        | open   |

  Rule: a photo is copied into the team's storage with its size and checksum

    Scenario Outline: a photo arrives through <provider>
      Given the team has connected a <provider> account
      When "Ana Souza" sends a photo of <size> bytes through <provider>
      Then the message "the photo" is kept as an inbound image message
      And the photo is in the team's storage with its size of <size> bytes and its SHA-256 checksum

      Examples: providers
        | provider       | size  |
        | WhatsApp Cloud | 2048  |
        | Twilio         | 2048  |
        | WhatsApp Cloud | 1     |

  Rule: a message for an account that is not connected yet is kept until the account connects

    Scenario Outline: a message reaches <provider> before the account is connected
      When "Ana Souza" sends "early" from +5511987654321 through <provider>
      Then every webhook was answered 200
      When the team connects the <provider> account
      Then the message "early" is kept as an inbound text message

      Examples: providers
        | provider       |
        | WhatsApp Cloud |
        | Twilio         |

  Rule: every kind of message is kept with its type

    Background:
      Given the team has connected a WhatsApp Cloud account

    Scenario Outline: a customer sends <kind>
      When a customer sends <kind> through WhatsApp Cloud
      Then the message is kept as an inbound <type> message

      Examples: kinds
        | kind                        | type        |
        | a text                      | text        |
        | an image                    | image       |
        | a location                  | location    |
        | a reaction                  | reaction    |
        | an interactive button reply | interactive |
        | an unsupported message      | unsupported |

      Examples: more kinds
        | kind                        | type        |
        | a voice note                | audio       |
        | a video                     | video       |
        | a sticker                   | sticker     |
        | a document                  | document    |
        | shared contacts             | contacts    |
        | a list reply                | interactive |
        | a template button reply     | interactive |
        | a number change notice      | system      |
