"""What happened to matches: the feedback log and consultants' figures."""
