/**
 * Glance 25's JSON Schemas as GET /v2/schemas/* serves them (generated from glance/api/v2/*.py
 * get_schema() with DevStack's /etc/glance/schema-image.json custom properties merged in).
 * The image schema is also what create and JSON-patch requests are validated against. A
 * collection schema's items are its item schema, as Glance's get_collection_schema builds them.
 */
export const IMAGE_SCHEMA: Record<string, unknown> = {
  "additionalProperties": {
    "type": "string"
  },
  "links": [
    {
      "href": "{self}",
      "rel": "self"
    },
    {
      "href": "{file}",
      "rel": "enclosure"
    },
    {
      "href": "{schema}",
      "rel": "describedby"
    }
  ],
  "name": "image",
  "properties": {
    "checksum": {
      "description": "md5 hash of image contents.",
      "maxLength": 32,
      "readOnly": true,
      "type": [
        "null",
        "string"
      ]
    },
    "container_format": {
      "description": "Format of the container",
      "enum": [
        null,
        "ami",
        "ari",
        "aki",
        "bare",
        "ovf",
        "ova",
        "docker",
        "compressed"
      ],
      "type": [
        "null",
        "string"
      ]
    },
    "created_at": {
      "description": "Date and time of image registration",
      "readOnly": true,
      "type": "string"
    },
    "direct_url": {
      "description": "URL to access the image file kept in external store",
      "readOnly": true,
      "type": "string"
    },
    "disk_format": {
      "description": "Format of the disk",
      "enum": [
        null,
        "ami",
        "ari",
        "aki",
        "vhd",
        "vhdx",
        "vmdk",
        "raw",
        "qcow2",
        "vdi",
        "iso",
        "ploop"
      ],
      "type": [
        "null",
        "string"
      ]
    },
    "file": {
      "description": "An image file url",
      "readOnly": true,
      "type": "string"
    },
    "id": {
      "description": "An identifier for the image",
      "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
      "type": "string"
    },
    "locations": {
      "description": "A set of URLs to access the image file kept in external store",
      "items": {
        "properties": {
          "metadata": {
            "type": "object"
          },
          "url": {
            "maxLength": 255,
            "type": "string"
          },
          "validation_data": {
            "additionalProperties": false,
            "description": "Values to be used to populate the corresponding image properties. If the image status is not 'queued', values must exactly match those already contained in the image properties.",
            "properties": {
              "checksum": {
                "maxLength": 32,
                "minLength": 32,
                "type": "string"
              },
              "os_hash_algo": {
                "maxLength": 64,
                "type": "string"
              },
              "os_hash_value": {
                "maxLength": 128,
                "type": "string"
              }
            },
            "required": [
              "os_hash_algo",
              "os_hash_value"
            ],
            "type": "object",
            "writeOnly": true
          }
        },
        "required": [
          "url",
          "metadata"
        ],
        "type": "object"
      },
      "type": "array"
    },
    "min_disk": {
      "description": "Amount of disk space (in GB) required to boot image.",
      "type": "integer"
    },
    "min_ram": {
      "description": "Amount of ram (in MB) required to boot image.",
      "type": "integer"
    },
    "name": {
      "description": "Descriptive name for the image",
      "maxLength": 255,
      "type": [
        "null",
        "string"
      ]
    },
    "os_hash_algo": {
      "description": "Algorithm to calculate the os_hash_value",
      "maxLength": 64,
      "readOnly": true,
      "type": [
        "null",
        "string"
      ]
    },
    "os_hash_value": {
      "description": "Hexdigest of the image contents using the algorithm specified by the os_hash_algo",
      "maxLength": 128,
      "readOnly": true,
      "type": [
        "null",
        "string"
      ]
    },
    "os_hidden": {
      "description": "If true, image will not appear in default image list response.",
      "type": "boolean"
    },
    "owner": {
      "description": "Owner of the image",
      "maxLength": 255,
      "type": [
        "null",
        "string"
      ]
    },
    "protected": {
      "description": "If true, image will not be deletable.",
      "type": "boolean"
    },
    "schema": {
      "description": "An image schema url",
      "readOnly": true,
      "type": "string"
    },
    "self": {
      "description": "An image self url",
      "readOnly": true,
      "type": "string"
    },
    "size": {
      "description": "Size of image file in bytes",
      "readOnly": true,
      "type": [
        "null",
        "integer"
      ]
    },
    "status": {
      "description": "Status of the image",
      "enum": [
        "queued",
        "saving",
        "active",
        "killed",
        "deleted",
        "uploading",
        "importing",
        "pending_delete",
        "deactivated"
      ],
      "readOnly": true,
      "type": "string"
    },
    "stores": {
      "description": "Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers.",
      "readOnly": true,
      "type": "string"
    },
    "tags": {
      "description": "List of strings related to the image",
      "items": {
        "maxLength": 255,
        "type": "string"
      },
      "type": "array"
    },
    "updated_at": {
      "description": "Date and time of the last image modification",
      "readOnly": true,
      "type": "string"
    },
    "virtual_size": {
      "description": "Virtual size of image in bytes",
      "readOnly": true,
      "type": [
        "null",
        "integer"
      ]
    },
    "visibility": {
      "description": "Scope of image accessibility",
      "enum": [
        "community",
        "public",
        "private",
        "shared"
      ],
      "type": "string"
    },
    "kernel_id": {
      "type": [
        "null",
        "string"
      ],
      "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
      "description": "ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.",
      "is_base": false
    },
    "ramdisk_id": {
      "type": [
        "null",
        "string"
      ],
      "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
      "description": "ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.",
      "is_base": false
    },
    "instance_uuid": {
      "type": "string",
      "description": "Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)",
      "is_base": false
    },
    "architecture": {
      "description": "Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
      "type": "string",
      "is_base": false
    },
    "os_distro": {
      "description": "Common name of operating system distribution as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
      "type": "string",
      "is_base": false
    },
    "os_version": {
      "description": "Operating system version as specified by the distributor.",
      "type": "string",
      "is_base": false
    },
    "description": {
      "description": "A human-readable string describing this image.",
      "type": "string",
      "is_base": false
    },
    "cinder_encryption_key_id": {
      "description": "Identifier in the OpenStack Key Management Service for the encryption key for the Block Storage Service to use when mounting a volume created from this image",
      "type": "string",
      "is_base": false
    },
    "cinder_encryption_key_deletion_policy": {
      "description": "States the condition under which the Image Service will delete the object associated with the 'cinder_encryption_key_id' image property.  If this property is missing, the Image Service will take no action",
      "type": "string",
      "enum": [
        "on_image_deletion",
        "do_not_delete"
      ],
      "is_base": false
    }
  }
};

export const IMAGES_SCHEMA: Record<string, unknown> = {
  "links": [
    {
      "href": "{first}",
      "rel": "first"
    },
    {
      "href": "{next}",
      "rel": "next"
    },
    {
      "href": "{schema}",
      "rel": "describedby"
    }
  ],
  "name": "images",
  "properties": {
    "first": {
      "type": "string"
    },
    "images": {
      "items": IMAGE_SCHEMA,
      "type": "array"
    },
    "next": {
      "type": "string"
    },
    "schema": {
      "type": "string"
    }
  }
};

export const MEMBER_SCHEMA: Record<string, unknown> = {
  "additionalProperties": false,
  "name": "member",
  "properties": {
    "created_at": {
      "description": "Date and time of image member creation",
      "type": "string"
    },
    "image_id": {
      "description": "An identifier for the image",
      "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
      "type": "string"
    },
    "member_id": {
      "description": "An identifier for the image member (tenantId)",
      "type": "string"
    },
    "schema": {
      "readOnly": true,
      "type": "string"
    },
    "status": {
      "description": "The status of this image member",
      "enum": [
        "pending",
        "accepted",
        "rejected"
      ],
      "type": "string"
    },
    "updated_at": {
      "description": "Date and time of last modification of image member",
      "type": "string"
    }
  }
};

export const MEMBERS_SCHEMA: Record<string, unknown> = {
  "links": [
    {
      "href": "{first}",
      "rel": "first"
    },
    {
      "href": "{next}",
      "rel": "next"
    },
    {
      "href": "{schema}",
      "rel": "describedby"
    }
  ],
  "name": "members",
  "properties": {
    "first": {
      "type": "string"
    },
    "members": {
      "items": MEMBER_SCHEMA,
      "type": "array"
    },
    "next": {
      "type": "string"
    },
    "schema": {
      "type": "string"
    }
  }
};

export const TASK_SCHEMA: Record<string, unknown> = {
  "additionalProperties": false,
  "name": "task",
  "properties": {
    "created_at": {
      "description": "Datetime when this resource was created",
      "type": "string"
    },
    "expires_at": {
      "description": "Datetime when this resource would be subject to removal",
      "type": [
        "null",
        "string"
      ]
    },
    "id": {
      "description": "An identifier for the task",
      "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
      "type": "string"
    },
    "image_id": {
      "description": "Image associated with the task",
      "type": "string"
    },
    "input": {
      "description": "The parameters required by task, JSON blob",
      "type": [
        "null",
        "object"
      ]
    },
    "message": {
      "description": "Human-readable informative message only included when appropriate (usually on failure)",
      "type": "string"
    },
    "owner": {
      "description": "An identifier for the owner of this task",
      "type": "string"
    },
    "request_id": {
      "description": "Human-readable informative request-id",
      "type": "string"
    },
    "result": {
      "description": "The result of current task, JSON blob",
      "type": [
        "null",
        "object"
      ]
    },
    "schema": {
      "readOnly": true,
      "type": "string"
    },
    "self": {
      "readOnly": true,
      "type": "string"
    },
    "status": {
      "description": "The current status of this task",
      "enum": [
        "pending",
        "processing",
        "success",
        "failure"
      ],
      "type": "string"
    },
    "type": {
      "description": "The type of task represented by this content",
      "enum": [
        "import",
        "api_image_import"
      ],
      "type": "string"
    },
    "updated_at": {
      "description": "Datetime when this resource was updated",
      "type": "string"
    },
    "user_id": {
      "description": "User associated with the task",
      "type": "string"
    }
  }
};

export const TASKS_SCHEMA: Record<string, unknown> = {
  "links": [
    {
      "href": "{first}",
      "rel": "first"
    },
    {
      "href": "{next}",
      "rel": "next"
    },
    {
      "href": "{schema}",
      "rel": "describedby"
    }
  ],
  "name": "tasks",
  "properties": {
    "first": {
      "type": "string"
    },
    "next": {
      "type": "string"
    },
    "schema": {
      "type": "string"
    },
    "tasks": {
      "items": {
        "additionalProperties": false,
        "name": "task",
        "properties": {
          "created_at": {
            "description": "Datetime when this resource was created",
            "type": "string"
          },
          "expires_at": {
            "description": "Datetime when this resource would be subject to removal",
            "type": [
              "null",
              "string"
            ]
          },
          "id": {
            "description": "An identifier for the task",
            "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
            "type": "string"
          },
          "image_id": {
            "description": "Image associated with the task",
            "type": "string"
          },
          "owner": {
            "description": "An identifier for the owner of this task",
            "type": "string"
          },
          "request_id": {
            "description": "Human-readable informative request-id",
            "type": "string"
          },
          "schema": {
            "readOnly": true,
            "type": "string"
          },
          "self": {
            "readOnly": true,
            "type": "string"
          },
          "status": {
            "description": "The current status of this task",
            "enum": [
              "pending",
              "processing",
              "success",
              "failure"
            ],
            "type": "string"
          },
          "type": {
            "description": "The type of task represented by this content",
            "enum": [
              "import",
              "api_image_import"
            ],
            "type": "string"
          },
          "updated_at": {
            "description": "Datetime when this resource was updated",
            "type": "string"
          },
          "user_id": {
            "description": "User associated with the task",
            "type": "string"
          }
        }
      },
      "type": "array"
    }
  }
};
