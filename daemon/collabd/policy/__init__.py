"""The company's YAML rules: schema, working-day calendar, evaluation."""
