"""Cloud access (openstacksdk), COE drivers and network drivers."""
