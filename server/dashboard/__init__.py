"""The dashboard (看板): campaign progress, deadlines, findings, collection rates, rectification, trend."""
