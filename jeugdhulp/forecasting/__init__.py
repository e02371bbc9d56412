"""The year-end forecast's track record: replaying past reporting dates (backtest.py)."""
