"""The assistance service (就业援助): cases, hard-to-employ certification, zero-employment households,
services, public-welfare posts, placement and matching (docs/design.md, "Assistance")."""
