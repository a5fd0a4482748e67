"""commsinbox: one inbox for every customer conversation on WhatsApp and Instagram."""
