Feature: Inbound Instagram — direct messages reach the team's inbox
  As an agent of a small business,
  I want our Instagram direct messages, and what the customer does with them, in the same inbox as WhatsApp,
  so that I see each conversation as the customer sees it.

  A team connects its Instagram professional account (Instagram Messaging through Meta). Meta sends a
  signed webhook for each direct message, for each message the business sends from the Instagram app
  (an echo), and when the customer unsends, reacts to or sees a message. A contact on Instagram is
  known by their Instagram-scoped id; Instagram gives no phone number.

  Background:
    Given the team has connected an Instagram account

  Rule: a customer's direct message opens a thread on the instagram channel

    Scenario: a direct message arrives
      When "Ana Souza" sends "Do you ship to Lisbon?" on Instagram
      Then the message "Do you ship to Lisbon?" is kept as an inbound text message
      And its thread is open on the instagram channel
      And the contact of "Do you ship to Lisbon?" is known by the Instagram id of "Ana Souza"

  Rule: a message the business sends from the Instagram app is kept as outbound

    Scenario: the business answers from the Instagram app
      Given "Ana Souza" sent "Do you ship to Lisbon?" on Instagram
      When the business replies "Yes, in 3 days" to "Ana Souza" from the Instagram app
      Then the message "Yes, in 3 days" is kept as an outbound text message
      And the messages "Do you ship to Lisbon?" and "Yes, in 3 days" are in one thread with one contact

  Rule: a message the customer unsends is marked deleted

    Scenario: the customer unsends a message
      Given "Ana Souza" sent "wrong photo, sorry" on Instagram
      When "Ana Souza" unsends "wrong photo, sorry"
      Then the message "wrong photo, sorry" is marked deleted

  Rule: a reply to a story keeps the story it answers

    Scenario: the customer replies to the business's story
      When "Ana Souza" replies "Love this!" to the story "17954170374002653"
      Then the message "Love this!" is kept as an inbound text message
      And the message "Love this!" keeps the story "17954170374002653"

  Rule: a reaction is kept as a message about the message it reacts to

    Background:
      Given the business replied "Yes, in 3 days" to "Ana Souza" from the Instagram app

    Scenario: the customer reacts to the business's message
      When "Ana Souza" reacts with "❤️" to "Yes, in 3 days"
      Then a reaction "❤️" to "Yes, in 3 days" is kept in its thread

    Scenario: the customer takes a reaction back
      When "Ana Souza" takes back the reaction to "Yes, in 3 days"
      Then a withdrawn reaction to "Yes, in 3 days" is kept in its thread

  Rule: a seen receipt marks the business's message read

    Scenario: the customer sees the business's message
      Given the business replied "Yes, in 3 days" to "Ana Souza" from the Instagram app
      When "Ana Souza" sees "Yes, in 3 days"
      Then the status of "Yes, in 3 days" is read
