Feature: Inbox — the agent's daily work on threads
  As an agent of a small business,
  I want to take threads, snooze them, label them and link them to our clients and orders,
  so that every customer gets an answer and nothing is answered twice or forgotten.

  Every thread shows how many of the customer's messages nobody has read yet. An agent assigns a
  thread to a member of the team, sets its status (open, pending, resolved, snoozed until a time),
  puts the team's labels on it and links it to the team's records. Another team's threads, labels
  and records are not found.

  Background:
    Given a team "Bakery" owned by "Olivia"
    And "Max" is an agent of "Bakery"
    And "Ana" wrote to "Bakery"

  Rule: a thread is assigned only to a member of the team

    Scenario: an agent takes a thread
      When "Max" assigns the thread of "Ana" to "Max"
      Then it is allowed
      And the threads assigned to "Max" are "Ana"

    Scenario: someone outside the team cannot be assigned
      Given a team "Florist" owned by "Flora"
      When "Max" assigns the thread of "Ana" to "Flora"
      Then it is invalid

  Rule: the customer's messages are unread until someone marks the thread read

    Scenario: messages add up, reading resets them
      When "Ana" writes 2 more messages
      Then the thread of "Ana" has 3 unread messages
      When "Max" marks the thread of "Ana" read
      Then the thread of "Ana" has 0 unread messages

  Rule: a snoozed thread wakes up when its time comes or when the customer writes

    Scenario Outline: snoozed for 2 hours, <minutes> minutes later
      When "Max" snoozes the thread of "Ana" for 2 hours
      And <minutes> minutes pass
      Then the thread of "Ana" is <status>

      Examples: the snooze ends at 120 minutes
        | minutes | status  |
        | 119     | snoozed |
        | 120     | open    |

    Scenario: the customer writes during the snooze
      When "Max" snoozes the thread of "Ana" for 2 hours
      And "Ana" writes again
      Then the thread of "Ana" is open

    Scenario: a snooze must end in the future
      When "Max" snoozes the thread of "Ana" for 0 hours
      Then it is invalid

  Rule: labels belong to the team, each name once whatever its case

    Scenario: labelled threads are found by their label
      Given "Bob" wrote to "Bakery"
      And "Bakery" has the label "VIP"
      When "Max" labels the thread of "Ana" "VIP"
      Then the threads labelled "VIP" are "Ana"

    Scenario: a name is taken whatever its case
      Given "Bakery" has the label "VIP"
      When "Olivia" creates the label "vip"
      Then it is a conflict

    Scenario: agents use labels but do not manage them
      When "Max" creates the label "Late payer"
      Then it is refused

  Rule: a thread links to the team's own clients and orders

    Scenario: a client's threads
      Given "Bakery" has a client "Ana Souza"
      When "Max" links the thread of "Ana" to the client "Ana Souza" of "Bakery"
      Then it is allowed
      And the threads of the client "Ana Souza" of "Bakery" are "Ana"

    Scenario: another team's client is not found
      Given a team "Florist" owned by "Flora"
      And "Florist" has a client "Rose"
      When "Max" links the thread of "Ana" to the client "Rose" of "Florist"
      Then it is not found

  Rule: a thread is found by the beginnings of the customer's name words, digits anywhere in their phone, or the whole words of one of their messages

    Scenario Outline: searching for <query>
      Given "Bruno" wrote to "Bakery"
      When "Ana" writes "Is the carrot cake gluten free?"
      And "Bruno" writes "When do you open tomorrow?"
      Then searching "<query>" finds <found>

      Examples: what a search matches
        | query             | found             |
        | carrot cake       | "Ana"             |
        | GLUTEN carrot     | "Ana"             |
        | tomorrow          | "Bruno"           |
        | Bruno             | "Bruno"           |
        | bru               | "Bruno"           |
        | hello             | "Ana" and "Bruno" |

    Scenario: the words must come from one message, and never from another team
      Given a team "Florist" owned by "Flora"
      And "Carla" wrote to "Florist"
      When "Ana" writes "Is the carrot cake gluten free?"
      Then searching "carrot tomorrow" finds nobody
      And searching "Carla" finds nobody
      And searching "runo" finds nobody
      And searching "carr" finds nobody


  Rule: agents see their own threads, and the unassigned ones while the team allows it

    Scenario: a thread assigned to someone else is out of an agent's sight
      Given "Mia" is an agent of "Bakery"
      And "Bea" wrote to "Bakery"
      When "Olivia" assigns the thread of "Ana" to "Mia"
      Then "Max" sees the threads of "Bea"
      And "Mia" sees the threads of "Ana" and "Bea"
      And "Olivia" sees the threads of "Ana" and "Bea"

    Scenario: the team keeps unassigned threads to managers
      Given "Bakery" shows agents only their own threads
      And "Bea" wrote to "Bakery"
      When "Olivia" assigns the thread of "Ana" to "Max"
      Then "Max" sees the threads of "Ana"

  Rule: the team's changes reach its members as they happen

    Scenario: a new message reaches the team's live stream and no other team's
      Given a team "Florist" owned by "Flora"
      And "Olivia" watches the live stream
      And "Flora" watches the live stream
      When "Ana" writes again
      Then within a second "Olivia" is told of a message.received
      And "Flora" is told nothing
