"""Surge traffic: arrival-rate shapes, trace replay, open-model schedules, human retries."""

from authsurge.traffic.behaviour import RetryPolicy
from authsurge.traffic.schedule import Arrival, Plan, build_plan
from authsurge.traffic.shapes import RateCurve, curves_for

__all__ = ["Arrival", "Plan", "RateCurve", "RetryPolicy", "build_plan", "curves_for"]
