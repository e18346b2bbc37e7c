"""Observability: OpenTelemetry traces and Prometheus metrics shared by the service and its workers."""
