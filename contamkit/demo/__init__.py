"""The built-in demo: the whole study on data every Python installation has."""

from contamkit.demo.story import DemoOptions, run, summary_text

__all__ = ["DemoOptions", "run", "summary_text"]
