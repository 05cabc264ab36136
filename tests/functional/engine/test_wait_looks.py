"""How often a create's wait asks the cloud while the bay's servers boot."""

from tests.functional.engine.conftest import BAY, BAYMODEL


def _gets(calls, ending):
    return [c for c in calls if c['method'] == 'GET' and c['template'].endswith(ending)]


def test_cinder_is_asked_about_a_volume_only_once_its_server_is_up(cli, sim):
    """Servers and volumes take a second here, looked at every 0.05 s: Nova is
    asked on every look, Cinder not before a server is ACTIVE (the first
    attach follows the look that saw it so)."""
    cli.ok(*BAYMODEL)
    sim.sim.state.boot_seconds = 1.0
    cli.ok(*BAY, '--wait')
    assert cli.bay()['status'] == 'CREATE_COMPLETE'
    calls = sim.calls()['recent']
    first_attach = next(i for i, c in enumerate(calls) if c['method'] == 'POST'
                        and c['template'].endswith('/os-volume_attachments'))
    booting = calls[:first_attach]
    assert len(_gets(booting, '/servers/detail')) >= 10, [c['template'] for c in booting]
    assert len(_gets(booting, '/volumes/detail')) <= 2  # a role's look as its server came up
