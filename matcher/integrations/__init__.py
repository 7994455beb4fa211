"""The municipality's case systems: the CloudEvents outbox and Standard Webhooks."""
