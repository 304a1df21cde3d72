"""`make demo`: synthesize the example app, then run the analyzer end to end on embedded data."""
