"""Who may act: user accounts, logins and sessions."""
