Feature: Quiet hours — no message that can wait goes out at night
  As a small business,
  I want what can wait to wait for the morning,
  so that we never wake a customer and never lose a message either.

  A team keeps quiet hours (21:00-08:00 from QUIET_HOURS_DEFAULT unless the team sets its own) in the
  customer's time zone when their number places them in one, else in the team's. A message that must wait
  is queued until the quiet hours end on the local clock, never dropped. An agent answering a customer who
  wrote within the team's reply grace (30 minutes unless the team sets another) does not wait. All times
  below are on the team's clock.

  Background:
    Given a team "Bakery" owned by "Olivia" in "America/Sao_Paulo" with quiet hours 21:00-08:00
    And "Max" is an agent of "Bakery"

  Rule: a reply outside the grace waits for the end of the quiet hours

    Scenario Outline: Ana wrote at noon, Max answers at <time>
      Given "Ana" from "+5511987650001" wrote to "Bakery" at 2026-11-24 12:00
      When "Max" replies to "Ana" at <time>
      Then the reply <outcome>

      Examples: 21:00 is the first quiet minute and 08:00 the first after
        | time             | outcome                      |
        | 2026-11-24 20:59 | goes out now                 |
        | 2026-11-24 21:00 | waits until 2026-11-25 08:00 |
        | 2026-11-25 07:59 | waits until 2026-11-25 08:00 |
        | 2026-11-25 08:00 | goes out now                 |

  Rule: an answer to a customer who has just written goes out at once

    Scenario Outline: Ana wrote at 21:10, Max answers at <time>
      Given "Ana" from "+5511987650001" wrote to "Bakery" at 2026-11-24 21:10
      When "Max" replies to "Ana" at <time>
      Then the reply <outcome>

      Examples: the grace is 30 minutes
        | time             | outcome                      |
        | 2026-11-24 21:39 | goes out now                 |
        | 2026-11-24 21:40 | waits until 2026-11-25 08:00 |

    Scenario: a team that gives replies no grace
      Given "Bakery" gives replies 0 minutes of grace
      And "Ana" from "+5511987650001" wrote to "Bakery" at 2026-11-24 21:10
      When "Max" replies to "Ana" at 2026-11-24 21:15
      Then the reply waits until 2026-11-25 08:00

  Rule: the quiet hours end at 08:00 on the clock of the day, whether the clocks changed overnight or not

    Scenario Outline: a team in London answers at 21:00 on <night>
      Given a team "Tea Room" owned by "Tom" in "Europe/London" with quiet hours 21:00-08:00
      And "Liz" from "+447700900123" wrote to "Tea Room" at <wrote>
      When "Tom" replies to "Liz" at <answer>
      Then the reply waits <hours> hours, until <until>

      Examples:
        | night                    | wrote            | answer           | hours | until            |
        | an ordinary night        | 2026-10-17 12:00 | 2026-10-17 21:00 | 11    | 2026-10-18 08:00 |
        | the night clocks go back | 2026-10-24 12:00 | 2026-10-24 21:00 | 12    | 2026-10-25 08:00 |
        | the night clocks go on   | 2026-03-28 12:00 | 2026-03-28 21:00 | 10    | 2026-03-29 08:00 |

  Rule: a customer whose number places them in a time zone gets quiet hours on their own clock

    Scenario Outline: Max answers <customer> at <time>
      Given "<customer>" from "<phone>" wrote to "Bakery" at 2026-11-24 12:00
      When "Max" replies to "<customer>" at <time>
      Then the reply <outcome>

      Examples: São Paulo is 5 hours ahead of Los Angeles in November
        | customer            | phone          | time             | outcome                      |
        | Ana in São Paulo    | +5511987650001 | 2026-11-24 22:00 | waits until 2026-11-25 08:00 |
        | Lee in Los Angeles  | +14155550101   | 2026-11-24 22:00 | goes out now                 |
        | Lee in Los Angeles  | +14155550101   | 2026-11-25 09:00 | waits until 2026-11-25 13:00 |
