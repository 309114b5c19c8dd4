"""dynadag: compile DynamoDB pipeline rows into static Airflow DAG files."""

__version__ = "0.3.0"
