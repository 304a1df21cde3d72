"""Monitors: one module per monitor type, sharing ``base.MonitorBase``."""
