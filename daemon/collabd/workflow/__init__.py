"""The domain state machines: requests, meetings, minutes, sign-offs, tasks, problems. Pure."""
