"""Glance v2: version discovery, images (list, show, create, update, delete,
tags) and image data (upload, stage and ``glance-direct`` import, download).

Images are stored as Glance renders them (extra properties such as
``os_distro`` flattened into the image body), plus ``project_id`` (the
owner, for ``/_sim/resources``), which the API view leaves out. Image data
lives beside the tables (``state`` blobs), never inside them.

Modules: ``images`` (metadata, listing, tags) and ``data`` (the bytes).
"""

from bayflow.cloudsim.glance import data, images
from bayflow.cloudsim.glance.images import SEED, image_id  # noqa: F401 (public helpers)


def register(router, state):
    state.on_seed(images.seed)
    state.on_advance(data.advance)
    add = router.add
    add('GET', '/image', images.versions, 'image', auth=False)
    add('GET', '/image/versions', images.versions, 'image', auth=False)
    add('GET', '/image/v2/images', images.list_images, 'image')
    add('POST', '/image/v2/images', images.create_image, 'image')
    add('GET', '/image/v2/images/{image_id}', images.show_image, 'image')
    add('PATCH', '/image/v2/images/{image_id}', images.update_image, 'image')
    add('DELETE', '/image/v2/images/{image_id}', images.delete_image, 'image')
    add('PUT', '/image/v2/images/{image_id}/tags/{tag}', images.add_tag, 'image')
    add('DELETE', '/image/v2/images/{image_id}/tags/{tag}', images.remove_tag, 'image')
    add('GET', '/image/v2/schemas/image', images.image_schema, 'image')
    add('PUT', '/image/v2/images/{image_id}/file', data.upload, 'image')
    add('GET', '/image/v2/images/{image_id}/file', data.download, 'image')
    add('PUT', '/image/v2/images/{image_id}/stage', data.stage, 'image')
    add('POST', '/image/v2/images/{image_id}/import', data.import_image, 'image')
    add('GET', '/image/v2/info/import', data.import_info, 'image')
