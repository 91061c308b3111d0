"""One module per settings type: its writable fields, declaration, provider and resource class."""
