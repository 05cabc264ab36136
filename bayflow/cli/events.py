"""``bayflow event-send``: publish one bay event, for scripts and tests."""

import json

import kombu.exceptions
from sqlalchemy import exc as sa_exc

from bayflow import config, exceptions, log
from bayflow.cli import common
from bayflow.messaging import events, topology


class EventBusUnavailable(exceptions.BayflowError):
    """The event bus could not take the event (broker down, bad URL, unwritable file)."""


class SendEvent(common.Command):
    """Publish a bay.create, bay.update or bay.delete event; prints its id."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('type', metavar='TYPE', help=', '.join(events.EVENT_TYPES))
        parser.add_argument('--payload', required=True, metavar='JSON',
                            help='The payload object, e.g. \'{"name": "k8s", "baymodel": '
                                 '"k8s-model", "node_count": 2}\' (see docs/events.md).')
        parser.add_argument('--id', dest='event_id', metavar='UUID',
                            help='Event id (default: a new uuid4). Sending one id twice '
                                 'is a duplicate the daemon acts on once.')
        for name in events.CONTEXT_KEYS:
            parser.add_argument('--' + name.replace('_', '-'), dest=name,
                                help=f'Context {name} carried with the event.')
        return parser

    def take_action(self, parsed_args):
        try:
            payload = json.loads(parsed_args.payload)
        except ValueError as exc:
            raise events.EventRefused(f'--payload: not valid JSON ({exc})', '--payload') from None
        context = {k: getattr(parsed_args, k) for k in events.CONTEXT_KEYS
                   if getattr(parsed_args, k) is not None}
        event = events.make(parsed_args.type, payload, context, parsed_args.event_id)
        conn = topology.connection()
        try:
            topology.publish_event(conn, event)
        except (kombu.exceptions.KombuError, OSError, sa_exc.SQLAlchemyError,
                *conn.connection_errors, *conn.channel_errors) as exc:
            url = log.scrub_text(config.transport_url())
            first_line = (str(exc).splitlines() or [''])[0]
            raise EventBusUnavailable(f'cannot publish to the event bus at {url}: '
                                      f'{type(exc).__name__}: {first_line}') from None
        finally:
            conn.release()
        self.app.stdout.write(event['id'] + '\n')
