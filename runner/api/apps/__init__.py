"""The apps family: versioned apps made from applets, their identifiers, lifecycle and runs."""
