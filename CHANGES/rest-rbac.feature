Every operation of the published container REST API exists, with role-based access control:
the published role names, namespace roles that count on every distribution and push repository
in the namespace, pull-through remote and distribution endpoints, and the push repository
actions tag, untag and remove_image.
