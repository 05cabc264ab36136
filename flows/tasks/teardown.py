"""The delete flow's steps: each removes every resource of one kind the bay owns.

They find by the bay's uuid (names, tags, metadata, descriptions), never by
what a create flow recorded, so they work on complete, failed, half-built and
rolled-back bays alike, and a second run finds nothing left to do.
"""

from bayflow.flows.tasks import base


class RemoveAll(base.BayTask):
    def __init__(self, kind):
        super().__init__(name=f'remove-{kind.replace("_", "-")}', provides=f'removed_{kind}')
        self.kind = kind

    def execute(self, bay):
        return [{'id': item['id'], 'name': item.get('name')}
                for item in self.cloud.teardown_step(bay['uuid'], self.kind)]

    def revert(self, *args, **kwargs):
        """A removal cannot be undone; the bay ends DELETE_FAILED naming what is left."""
