"""Built-in node library (installed as graphflow.nodes)."""
