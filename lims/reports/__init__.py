"""Work queues, dashboards and programme reports (floor 8: reads every feature)."""
