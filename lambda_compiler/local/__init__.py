"""The local stack behind `dynadag local`.

A moto server on 127.0.0.1 with the tables and bucket of `template.yaml`, a stream
worker calling the real Lambda handler, and a mirror of the dags prefix.
"""
