"""Watch mode: a watchfiles loop turning source changes into build-and-run requests through the client."""
