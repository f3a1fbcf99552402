"""Placeholder."""


def download(world, request):
    raise NotImplementedError
