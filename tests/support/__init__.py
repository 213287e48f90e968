"""Helpers shared by the unit and integration tests (no tests here).

- synth, planted: synthetic run directories with planted capacities;
- runner, real, real_runs: scenario text, runs against the embedded target, their records;
- target: the test target's settings and a fast copy of its database;
- journeys: a request-event recorder and journeys run one at a time;
- cli: the command line in-process; certs: a private CA; secret_scan: looking for leaks;
- faults: the fault-injecting proxy, its scenarios and checks.
"""
