Feature: Tenancy — teams, members and roles
  As the owner of a small business,
  I want every member of my team to see only our own clients and records, and to do only what their role allows,
  so that our customers' data stays private and nobody can lock us out of our own team.

  A team is one business. A member belongs to a team with one role: owner, manager, agent,
  or a custom role that holds exactly the permissions it was given. Another team's team, client,
  order or invoice reads as "not found", never as "refused", so its existence is not revealed.

  Rule: a member sees only their own team's clients and orders

    Background:
      Given a team "Bakery" owned by "Olivia"
      And "Bakery" has a client "Carla"
      And "Bakery" has an order numbered "A-1"
      And a team "Florist" owned by "Fiona"
      And "Florist" has a client "Dora"
      And "Florist" has an order numbered "B-7"

    Scenario: listing clients shows only the team's own clients
      When "Olivia" tries to list the clients
      Then it is allowed
      And the clients listed are "Carla"

    Scenario: listing orders shows only the team's own orders
      When "Fiona" tries to list the orders
      Then it is allowed
      And the orders listed are "B-7"

    Scenario Outline: opening a client or an order by its id
      When "Olivia" tries to open the <kind> "<name>" of "<team>"
      Then it is <answer>

      Examples: the team's own records
        | kind   | name  | team   | answer  |
        | client | Carla | Bakery | allowed |
        | order  | A-1   | Bakery | allowed |

      Examples: another team's records read as not found
        | kind   | name  | team    | answer    |
        | client | Dora  | Florist | not found |
        | order  | B-7   | Florist | not found |

    Scenario: deleting another team's client reads as not found and leaves it in place
      When "Olivia" tries to delete the client "Dora" of "Florist"
      Then it is not found
      And "Fiona" still finds the client "Dora"

  Rule: a user who is not a member of a team cannot open it

    Background:
      Given a team "Bakery" owned by "Olivia"
      And a team "Florist" owned by "Fiona"

    Scenario Outline: opening a team
      When "<user>" tries to open the team "<team>"
      Then it is <answer>

      Examples: a member
        | user   | team    | answer  |
        | Olivia | Bakery  | allowed |
        | Fiona  | Florist | allowed |

      Examples: not a member
        | user   | team    | answer    |
        | Olivia | Florist | not found |
        | Fiona  | Bakery  | not found |

    Scenario: a former member can no longer open the team
      Given "Max" is an agent of "Bakery"
      And "Max" has left "Bakery"
      When "Max" tries to open the team "Bakery"
      Then it is not found

    Scenario: a team that does not exist reads the same as another team's
      When "Olivia" tries to open a team that does not exist
      Then it is not found

  Rule: each role may do only what it is granted

    Background:
      Given a team "Bakery" owned by "Olivia"
      And "Bakery" has a client "Carla"

    Scenario Outline: a member acts according to their role
      Given "Sam" is <role> of "Bakery"
      When "Sam" tries to <action>
      Then it is <answer>

      Examples: an owner may do everything
        | role     | action                   | answer  |
        | an owner | update the team settings | allowed |
        | an owner | invite a member          | allowed |
        | an owner | create a client          | allowed |
        | an owner | delete a client          | allowed |
        | an owner | create an order          | allowed |

      Examples: a manager may do everything but change the team settings
        | role      | action                   | answer  |
        | a manager | update the team settings | refused |
        | a manager | invite a member          | allowed |
        | a manager | create a client          | allowed |
        | a manager | delete a client          | allowed |
        | a manager | create an order          | allowed |

      Examples: an agent works with clients but may not delete them, manage the team or write orders
        | role     | action                   | answer  |
        | an agent | update the team settings | refused |
        | an agent | invite a member          | refused |
        | an agent | create a client          | allowed |
        | an agent | delete a client          | refused |
        | an agent | create an order          | refused |

  Rule: a custom role gets exactly its permissions

    Background:
      Given a team "Bakery" owned by "Olivia"
      And "Bakery" has a client "Carla"
      And "Cleo" is a custom member of "Bakery" who may "clients.read, clients.write"

    Scenario Outline: a custom member acts
      When "Cleo" tries to <action>
      Then it is <answer>

      Examples: granted
        | action           | answer  |
        | list the clients | allowed |
        | create a client  | allowed |

      Examples: not granted
        | action                   | answer  |
        | delete a client          | refused |
        | list the orders          | refused |
        | create an order          | refused |
        | invite a member          | refused |
        | update the team settings | refused |

    Scenario: a custom role needs at least one permission
      When "Olivia" tries to invite "Nina" with a custom role and no permissions
      Then it is invalid
      And "Nina" is not a member of "Bakery"

  Rule: only an owner makes owners

    Background:
      Given a team "Bakery" owned by "Olivia"
      And "Mia" is a manager of "Bakery"
      And "Max" is an agent of "Bakery"
      And "Hugo" is a custom member of "Bakery" who may "members.read, members.manage"

    Scenario Outline: making an owner of an existing member
      When "<who>" tries to make "Max" an owner
      Then it is <answer>
      And "Max" is <role> of "Bakery"

      Examples: an owner
        | who    | answer  | role     |
        | Olivia | allowed | an owner |

      Examples: anyone else
        | who  | answer  | role     |
        | Mia  | refused | an agent |
        | Hugo | refused | an agent |
        | Max  | refused | an agent |

    Scenario Outline: inviting a new owner
      When "<who>" tries to invite "Nina" as an owner
      Then it is <answer>

      Examples: an owner
        | who    | answer  |
        | Olivia | allowed |

      Examples: anyone else
        | who  | answer  |
        | Mia  | refused |
        | Hugo | refused |

    Scenario Outline: unmaking an owner
      When "<who>" tries to <change>
      Then it is refused
      And "Olivia" is an owner of "Bakery"

      Examples: anyone but an owner
        | who  | change                       |
        | Mia  | make "Olivia" a manager      |
        | Mia  | remove "Olivia" from "Bakery" |
        | Hugo | make "Olivia" a manager      |
        | Hugo | remove "Olivia" from "Bakery" |

    Scenario: a manager still manages the roles below owner
      When "Mia" tries to make "Max" a manager
      Then it is allowed
      And "Max" is a manager of "Bakery"

  Rule: a team keeps at least one owner

    Background:
      Given a team "Bakery" owned by "Olivia"

    Scenario Outline: an owner steps down
      Given "Bakery" has <owners> owner(s)
      When "Olivia" tries to <step down>
      Then it is <answer>
      And "Olivia" is <afterwards> of "Bakery"

      Examples: the last owner
        | owners | step down        | answer     | afterwards |
        | 1      | leave the team   | a conflict | an owner   |
        | 1      | become a manager | a conflict | an owner   |

      Examples: one of two owners
        | owners | step down        | answer  | afterwards   |
        | 2      | leave the team   | allowed | not a member |
        | 2      | become a manager | allowed | a manager    |

  Rule: order and invoice numbers are unique within a team but may repeat across teams

    Background:
      Given a team "Bakery" owned by "Olivia"
      And "Bakery" has an order numbered "A-1"
      And "Bakery" has an invoice numbered "F-1"
      And a team "Florist" owned by "Fiona"

    Scenario Outline: numbering an order or an invoice
      When "<user>" tries to create <kind> numbered "<number>"
      Then it is <answer>

      Examples: a number already used in the same team
        | user   | kind       | number | answer     |
        | Olivia | an order   | A-1    | a conflict |
        | Olivia | an invoice | F-1    | a conflict |

      Examples: a new number in the same team
        | user   | kind       | number | answer  |
        | Olivia | an order   | A-2    | allowed |
        | Olivia | an invoice | F-2    | allowed |

      Examples: the same number in another team
        | user  | kind       | number | answer  |
        | Fiona | an order   | A-1    | allowed |
        | Fiona | an invoice | F-1    | allowed |

  Rule: a user of two teams must say which team they act in, and sees only that team's data

    Background:
      Given a team "Bakery" owned by "Olivia"
      And "Bakery" has a client "Carla"
      And a team "Florist" owned by "Fiona"
      And "Florist" has a client "Dora"
      And "Olivia" is an agent of "Florist"

    Scenario: a user of two teams who does not say which team is asked to
      When "Olivia" tries to list the clients without saying which team
      Then it is invalid

    Scenario: a user of one team need not say which team
      When "Fiona" tries to list the clients without saying which team
      Then it is allowed
      And the clients listed are "Dora"

    Scenario Outline: a user of two teams sees only the team they name
      When "Olivia" tries to list the clients in "<team>"
      Then it is allowed
      And the clients listed are "<clients>"

      Examples: each team
        | team    | clients |
        | Bakery  | Carla   |
        | Florist | Dora    |

    Scenario Outline: a user of two teams holds, in each, the role they have there
      When "Olivia" tries to delete a client in "<team>"
      Then it is <answer>

      Examples: the team she owns
        | team   | answer  |
        | Bakery | allowed |

      Examples: the team where she is an agent
        | team    | answer  |
        | Florist | refused |
