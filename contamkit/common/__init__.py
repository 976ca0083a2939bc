"""Small helpers shared by every package: errors, atomic files, progress and paths."""
