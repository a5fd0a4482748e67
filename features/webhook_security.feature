Feature: Webhook security — only the providers can put messages into a team's inbox
  As the owner of a small business,
  I want the inbox to accept only webhooks that WhatsApp, Twilio or Instagram really signed,
  so that nobody can forge our customers' messages or fill our inbox with junk.

  Meta signs each webhook with the app secret (X-Hub-Signature-256); Twilio signs it with the account's
  auth token (X-Twilio-Signature). A refused webhook leaves nothing behind: its body is not stored and
  no message appears.

  Rule: a webhook without a valid signature is refused and nothing is stored

    Scenario Outline: a <provider> webhook arrives with <signing>
      Given the team has connected a <provider> account
      When a <provider> webhook arrives with <signing>
      Then the webhook is answered <status>
      And nothing is stored

      Examples: no signature
        | provider       | signing            | status |
        | WhatsApp Cloud | no signature       | 401    |
        | Instagram      | no signature       | 401    |
        | Twilio         | no signature       | 401    |
        | WhatsApp Cloud | an empty signature | 401    |
        | Twilio         | an empty signature | 401    |

      Examples: a wrong signature
        | provider       | signing                         | status |
        | WhatsApp Cloud | a wrong signature               | 403    |
        | Instagram      | a wrong signature               | 403    |
        | Twilio         | a wrong signature               | 403    |
        | WhatsApp Cloud | a signature in the wrong format | 403    |
        | Instagram      | a signature in the wrong format | 403    |

      Examples: a body changed after it was signed
        | provider       | signing                            | status |
        | WhatsApp Cloud | the signature of the original body | 403    |
        | Instagram      | the signature of the original body | 403    |
        | Twilio         | the signature of the original body | 403    |

    Scenario Outline: a correctly signed <provider> webhook is kept
      Given the team has connected a <provider> account
      When a <provider> webhook arrives with a valid signature
      Then the webhook is answered 200
      And its message is stored

      Examples: providers
        | provider       |
        | WhatsApp Cloud |
        | Instagram      |
        | Twilio         |

  Rule: a signed webhook that cannot be read is refused and nothing is stored

    Scenario Outline: a signed <provider> webhook with <defect>
      Given the team has connected a <provider> account
      When a correctly signed <provider> webhook arrives with <defect>
      Then the webhook is answered 400
      And nothing is stored

      Examples: a message without its id
        | provider       | defect                  |
        | WhatsApp Cloud | a message without an id |
        | Instagram      | a message without an id |
        | Twilio         | a message without an id |

      Examples: a body that is not JSON
        | provider       | defect                  |
        | WhatsApp Cloud | a body that is not JSON |
        | Instagram      | a body that is not JSON |

  Rule: Meta's subscription handshake is answered only with the right verify token

    Scenario Outline: Meta subscribes the <provider> webhook with the right verify token
      When Meta asks to subscribe the <provider> webhook with the verify token "verify-me-please"
      Then the webhook is answered 200
      And the answer is the challenge

      Examples: channels
        | provider       |
        | WhatsApp Cloud |
        | Instagram      |

    Scenario Outline: a subscription with <request> is refused
      When <request> arrives for the <provider> webhook
      Then the webhook is answered 403

      Examples: a wrong verify token
        | provider       | request                             |
        | WhatsApp Cloud | a subscription with a wrong token    |
        | Instagram      | a subscription with a wrong token    |

      Examples: other malformed handshakes
        | provider       | request                              |
        | WhatsApp Cloud | a subscription with no token         |
        | WhatsApp Cloud | a request that is not a subscription |
        | Instagram      | a subscription with no challenge     |

  Rule: a webhook larger than 3 MiB is refused before it is read

    Scenario Outline: a signed <provider> webhook of <size> bytes arrives <transfer>
      Given the team has connected a <provider> account
      When a signed <provider> webhook of <size> bytes arrives <transfer>
      Then the webhook is answered <status>

      Examples: at the limit
        | provider       | size    | transfer         | status |
        | WhatsApp Cloud | 3145728 | with its length  | 200    |
        | Instagram      | 3145728 | with its length  | 200    |
        | Twilio         | 3145728 | with its length  | 200    |
        | WhatsApp Cloud | 3145728 | in chunks        | 200    |
        | Twilio         | 3145728 | in chunks        | 200    |

      Examples: over the limit
        | provider       | size    | transfer         | status |
        | WhatsApp Cloud | 3145729 | with its length  | 413    |
        | Instagram      | 3145729 | with its length  | 413    |
        | Twilio         | 3145729 | with its length  | 413    |
        | WhatsApp Cloud | 3145729 | in chunks        | 413    |
        | Twilio         | 3145729 | in chunks        | 413    |
