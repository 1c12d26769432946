"""Apache Airflow provider for Chargebee invoice operations."""

__version__ = "0.1.0"
