"""Bay records, repository functions, migrations and TaskFlow persistence wiring."""
