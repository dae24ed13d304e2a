# The repository root is on sys.path for the tests, so they can import dev.stack.
