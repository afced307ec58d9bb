"""Peer bots for `bench.walk`: each runs in its own throwaway virtualenv, never in ours."""
