"""Building blocks of a server's cloud-init user_data, shared by every COE driver.

A document is a MIME multipart (what Heat's OS::Heat::MultipartMime made):
cloud-config parts are merged and applied first (write_files runs in
cloud-init's init stage), then the shell-script parts run in the lexical order
of their file names (cloud-init saves them under scripts/ and runs them with
run-parts). ``multipart`` therefore numbers the names (``01-disable-selinux.sh``)
so that the run order is the document order.
"""

import base64
import functools
import importlib.resources
import re
import secrets
import shlex

import yaml

from bayflow.exceptions import BayflowError

# Nova's limit on user_data, counted on its base64 form.
NOVA_USER_DATA_LIMIT = 65535
_HEREDOC = 'BAYFLOW_EOF'
_NAME = re.compile(r'[A-Z][A-Z0-9_]*')


class UserDataError(BayflowError):
    """user_data that cannot be rendered from the given context."""


def multipart(parts):
    """-> str: the MIME multipart of ``[(filename, content), ...]``, in that order.

    The subtype follows the content's first line: ``#cloud-config`` gives
    text/cloud-config, ``#!`` text/x-shellscript. Script names get a two-digit
    sequence prefix so cloud-init runs them in document order.

    Written out here rather than by the email package, which took two thirds
    of the CPU of rendering a server's user_data (a 50-node bay renders 51).
    ASCII parts go as they are (7bit), others base64-encoded UTF-8, as email's
    MIMEText does.
    """
    rendered = []
    for number, (filename, content) in enumerate(parts, 1):
        subtype = _subtype(filename, content)
        if subtype == 'x-shellscript':
            filename = f'{number:02d}-{filename}'
        rendered.append(_part(filename, subtype, content))
    boundary = _boundary(rendered)
    out = [f'Content-Type: multipart/mixed; boundary="{boundary}"', 'MIME-Version: 1.0', '']
    for part in rendered:
        out += [f'--{boundary}', part]
    out.append(f'--{boundary}--')
    return '\n'.join(out) + '\n'


def _part(filename, subtype, content):
    plain = content.isascii() and all(len(line) <= 998 for line in content.splitlines())
    if plain:
        charset, encoding, body = 'us-ascii', '7bit', content
    else:
        data = base64.b64encode(content.encode('utf-8')).decode('ascii')
        charset, encoding = 'utf-8', 'base64'
        body = '\n'.join(data[i:i + 76] for i in range(0, len(data), 76)) + '\n'
    quoted = filename.replace('\\', '\\\\').replace('"', '\\"')
    return '\n'.join([f'Content-Type: text/{subtype}; charset="{charset}"',
                      'MIME-Version: 1.0', f'Content-Transfer-Encoding: {encoding}',
                      f'Content-Disposition: attachment; filename="{quoted}"', '',
                      body])


def _boundary(rendered):
    while True:
        boundary = '=' * 15 + f'{secrets.randbelow(10 ** 19):019d}' + '=='
        if not any(boundary in part for part in rendered):
            return boundary


def _subtype(filename, content):
    if content.startswith('#cloud-config'):
        return 'cloud-config'
    if content.startswith('#!'):
        return 'x-shellscript'
    raise UserDataError(f'user_data part {filename}: starts with neither "#!" nor '
                        f'"#cloud-config"; cloud-init would not know how to run it')


def params_file(path, values, permissions='0600'):
    """A cloud-config part writing ``NAME='value'`` lines to ``path``.

    The result is both a shell file the scripts source (``. path``) and a
    systemd EnvironmentFile: values are single-quoted with shlex.quote, which
    both read the same way. None becomes an empty value.
    """
    lines = []
    for name, value in values.items():
        if not _NAME.fullmatch(name):
            raise UserDataError(f'parameter name {name!r}: upper-case letters, digits and _')
        text = '' if value is None else str(value)
        if '\n' in text:
            raise UserDataError(f'parameter {name}: a single line is required')
        lines.append(f'{name}={shlex.quote(text)}')
    document = {'write_files': [{'path': path, 'owner': 'root:root',
                                 'permissions': permissions,
                                 'content': '\n'.join(lines) + '\n'}]}
    return '#cloud-config\n' + yaml.dump(document, Dumper=_Dumper, default_flow_style=False,
                                         sort_keys=False, width=4096)


class _Dumper(getattr(yaml, 'CSafeDumper', yaml.SafeDumper)):
    """Multi-line strings as literal blocks, so the file reads as it will be written.
    (libyaml's emitter when PyYAML has it: each server's user_data dumps a few.)"""


def _str(dumper, value):
    style = '|' if '\n' in value else None
    return dumper.represent_scalar('tag:yaml.org,2002:str', value, style=style)


_Dumper.add_representer(str, _str)


def write_files_script(files, after=''):
    """A shell script writing ``[(path, content, mode)]`` verbatim (quoted heredocs).

    Used for TLS material and generated config files, so that they are written
    by the step that needs them, in order; ``after`` is shell run at the end.
    """
    out = ['#!/bin/sh', 'set -e', 'umask 077']
    for path, content, mode in files:
        if _HEREDOC in content:
            raise UserDataError(f'content of {path} contains the heredoc marker {_HEREDOC}')
        directory = path.rsplit('/', 1)[0] or '/'
        text = content if content.endswith('\n') else content + '\n'
        out += [f'mkdir -p {shlex.quote(directory)}',
                f"cat > {shlex.quote(path)} <<'{_HEREDOC}'",
                text + _HEREDOC,
                f'chmod {mode} {shlex.quote(path)}']
    if after:
        out.append(after.rstrip('\n'))
    return '\n'.join(out) + '\n'


@functools.lru_cache(maxsize=None)
def fragment(package, name):
    """The text of the shell fragment ``fragments/<name>`` shipped in ``package``."""
    return importlib.resources.files(package).joinpath('fragments', name).read_text()
