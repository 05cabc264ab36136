"""cinder: to be filled in."""


def register(router, state):
    pass
