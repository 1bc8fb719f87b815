// fl.widgets: Jupyter widgets from the kernel — ipywidgets 8's core controls, the Output area,
// links, and featurelab's own views as anywidget models.
export { Widget, reference, type Change, PROTOCOL_VERSION, WIDGET_VIEW_MIME } from "./widget.js";
export {
  ValueWidget, IntSlider, FloatSlider, SelectionWidget, Dropdown, ToggleButtons, Checkbox, Text, HTML, Label, Button, Box, HBox, VBox, Tab, Accordion,
  type ControlOptions, type Choice,
} from "./controls.js";
export { Output } from "./output.js";
export { link, jslink, jsdlink, type Endpoint, type Link } from "./links.js";
export { AnyWidget, ANYWIDGET_VERSION } from "./anywidget.js";
export { FigureWidget, figure } from "./figure-widget.js";
export { liveWidgets } from "./registry.js";
export { modelSchema, type Attribute, type ModelSchema } from "./schema.js";
export { FeatureExplorer, featureExplorer, GeometryExplorer, geometryExplorer, type FeatureExplorerOptions, type GeometryExplorerOptions } from "./feature-explorer.js";
export { TrainingView } from "./training-view.js";
