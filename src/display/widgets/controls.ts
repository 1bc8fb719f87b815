// ipywidgets 8's core controls, kernel side: the same model names, modules and state, so every
// widget frontend draws them with its own @jupyter-widgets/controls. Options are the state keys
// (ipywidgets' trait names, snake_case); `layout` and `style` may be plain objects.
import { Widget } from "./widget.js";
import { escapeHtml } from "../core/escape.js";

/** Options of a control: its state keys (see ipywidgets' documentation of the same widget). */
export type ControlOptions = Record<string, unknown>;

/** A control with a `value`. */
export class ValueWidget<T> extends Widget {
  /** The value (setting it updates every view). */
  get value(): T {
    return this.get<T>("value");
  }
  /** Set value (every view follows). */
  set value(v: T) {
    this.set({ value: v });
  }
  /** The label beside the control. */
  get description(): string {
    return this.get<string>("description");
  }
  /** Set description (every view follows). */
  set description(v: string) {
    this.set({ description: v });
  }
}

/** Clamp a slider's initial value into [min, max] as ipywidgets does. */
function clampValue(opts: ControlOptions, min: number, max: number): ControlOptions {
  const lo = (opts.min as number | undefined) ?? min;
  const hi = (opts.max as number | undefined) ?? max;
  if (lo > hi) throw new RangeError(`featurelab: slider: min ${lo} is above max ${hi}`);
  const v = (opts.value as number | undefined) ?? lo;
  return { ...opts, value: Math.min(hi, Math.max(lo, v)) };
}

/**
 * An integer slider.
 * @example
 * const feature = new fl.widgets.IntSlider({ value: 0, min: 0, max: 255, description: "feature" });
 */
export class IntSlider extends ValueWidget<number> {
  constructor(opts: ControlOptions = {}) {
    super("IntSliderModel", clampValue(opts, 0, 100), "IntSlider");
  }
}

/**
 * A slider of real numbers.
 * @example
 * const l1 = new fl.widgets.FloatSlider({ value: 0.1, min: 0, max: 1, step: 0.01, description: "l1" });
 */
export class FloatSlider extends ValueWidget<number> {
  constructor(opts: ControlOptions = {}) {
    super("FloatSliderModel", clampValue(opts, 0, 100), "FloatSlider");
  }
}

/** One choice of a selection widget: a label, or [label, value]. */
export type Choice<T> = string | number | readonly [string, T];

/** A widget choosing one of its options; the frontend sees labels and the index, the kernel the value. */
export class SelectionWidget<T> extends Widget {
  private choices: { label: string; value: T }[] = [];

  constructor(model: string, who: string, opts: ControlOptions & { options?: readonly Choice<T>[]; value?: T }) {
    const { options = [], value, ...rest } = opts;
    const choices = options.map((o) => (Array.isArray(o) ? { label: String(o[0]), value: o[1] as T } : { label: String(o), value: o as T }));
    const index = value === undefined ? (choices.length ? 0 : null) : choices.findIndex((c) => c.value === value);
    if (index === -1) throw new RangeError(`featurelab: ${who}: value ${JSON.stringify(value)} is not one of the options`);
    super(model, { ...rest, _options_labels: choices.map((c) => c.label), index }, who);
    this.choices = choices;
    this.observe(({ new: i }) => {
      if (typeof i === "number" && (i < 0 || i >= this.choices.length)) this.set({ index: this.choices.length ? 0 : null }); // out of range from a frontend
    }, "index");
  }

  /** The chosen option's value (undefined when none is chosen). */
  get value(): T | undefined {
    const i = this.get<number | null>("index");
    return i === null ? undefined : this.choices[i]?.value;
  }
  /** Set value (every view follows). */
  set value(v: T | undefined) {
    const i = this.choices.findIndex((c) => c.value === v);
    if (i < 0 && v !== undefined) throw new RangeError(`featurelab: ${this.who}: ${JSON.stringify(v)} is not one of the options`);
    this.set({ index: i < 0 ? null : i });
  }
  /** The chosen option's position (null: none). */
  get index(): number | null {
    return this.get<number | null>("index");
  }
  /** The chosen option's label. */
  get label(): string | undefined {
    const i = this.index;
    return i === null ? undefined : this.choices[i]?.label;
  }
  /** The options' values, in order. */
  get options(): T[] {
    return this.choices.map((c) => c.value);
  }
}

/**
 * A drop-down list.
 * @example
 * const hook = new fl.widgets.Dropdown({ options: ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre"], description: "hook" });
 */
export class Dropdown<T = string> extends SelectionWidget<T> {
  constructor(opts: ControlOptions & { options?: readonly Choice<T>[]; value?: T } = {}) {
    super("DropdownModel", "Dropdown", opts);
  }
}

/**
 * A row of buttons, one pressed.
 * @example
 * const metric = new fl.widgets.ToggleButtons({ options: ["correlation", "euclidean"] });
 */
export class ToggleButtons<T = string> extends SelectionWidget<T> {
  constructor(opts: ControlOptions & { options?: readonly Choice<T>[]; value?: T } = {}) {
    super("ToggleButtonsModel", "ToggleButtons", opts);
  }
}

/**
 * A checkbox.
 * @example
 * const normalise = new fl.widgets.Checkbox({ value: true, description: "normalise" });
 */
export class Checkbox extends ValueWidget<boolean> {
  constructor(opts: ControlOptions = {}) {
    super("CheckboxModel", opts, "Checkbox");
  }
}

/**
 * A one-line text box.
 * @example
 * const query = new fl.widgets.Text({ placeholder: "token…" });
 */
export class Text extends ValueWidget<string> {
  constructor(opts: ControlOptions = {}) {
    super("TextModel", opts, "Text");
  }
}

/**
 * A block of HTML (its value: trusted HTML the kernel made, e.g. a feature dashboard).
 * @example
 * const note = new fl.widgets.HTML({ value: "<b>ready</b>" });
 */
export class HTML extends ValueWidget<string> {
  constructor(opts: ControlOptions = {}) {
    super("HTMLModel", opts, "HTML");
  }
  /** @internal */
  override fallbackHtml(): string {
    return this.value;
  }
}

/**
 * A line of text.
 * @example
 * const status = new fl.widgets.Label({ value: "0 features selected" });
 */
export class Label extends ValueWidget<string> {
  constructor(opts: ControlOptions = {}) {
    super("LabelModel", opts, "Label");
  }
  /** @internal */
  override fallbackHtml(): string {
    return `<span>${escapeHtml(this.value)}</span>`;
  }
}

/**
 * A button; `onClick(handler)` runs when it is pressed.
 * @example
 * const go = new fl.widgets.Button({ description: "train" });
 * go.onClick(() => console.log("pressed"));
 */
export class Button extends Widget {
  constructor(opts: ControlOptions = {}) {
    super("ButtonModel", opts, "Button");
    // The frontend says "click" as a custom message, as ipywidgets' Button does.
    this.on("msg:custom", (content: { event?: string }) => (content?.event === "click" ? this.emit("click", this) : undefined));
  }
  /**
   * Call `handler` whenever the button is pressed.
   * @example
   * new fl.widgets.Button({ description: "go" }).onClick(() => console.log("pressed"));
   */
  onClick(handler: (button: Button) => void | Promise<void>): this {
    return this.on("click", handler);
  }
  /**
   * Press the button from the kernel (runs the click handlers).
   * @example
   * await new fl.widgets.Button().click();
   */
  click(): Promise<void> {
    return this.emit("click", this);
  }
}

/** A container of widgets. */
export class Box extends Widget {
  private kids: Widget[];
  constructor(model: string, who: string, children: Widget[], opts: ControlOptions = {}) {
    super(model, { ...opts, children }, who);
    this.kids = [...children];
  }
  /** The widgets inside (setting replaces them in every view). */
  get children(): readonly Widget[] {
    return this.kids;
  }
  /** Set children (every view follows). */
  set children(children: readonly Widget[]) {
    this.kids = [...children];
    this.set({ children: this.kids });
  }
  /** @internal */
  override fallbackHtml(): string {
    return this.kids.map((k) => k.fallbackHtml()).join("");
  }
}

/**
 * Widgets side by side.
 * @example
 * fl.show(new fl.widgets.HBox([slider, label]));
 */
export class HBox extends Box {
  constructor(children: Widget[] = [], opts: ControlOptions = {}) {
    super("HBoxModel", "HBox", children, opts);
  }
}

/**
 * Widgets one above another.
 * @example
 * fl.show(new fl.widgets.VBox([slider, out]));
 */
export class VBox extends Box {
  constructor(children: Widget[] = [], opts: ControlOptions = {}) {
    super("VBoxModel", "VBox", children, opts);
  }
}

/** A container with titled pages (`titles` in order). */
class TitledBox extends Box {
  constructor(model: string, who: string, children: Widget[], opts: ControlOptions & { titles?: string[] }) {
    const { titles = [], ...rest } = opts;
    super(model, who, children, { ...rest, titles: children.map((_, i) => titles[i] ?? "") });
  }
  /** The open page (null: none). */
  get selectedIndex(): number | null {
    return this.get<number | null>("selected_index");
  }
  /** Set selectedIndex (every view follows). */
  set selectedIndex(i: number | null) {
    this.set({ selected_index: i });
  }
}

/**
 * Tabs, one per child.
 * @example
 * fl.show(new fl.widgets.Tab([view, out], { titles: ["features", "dashboards"] }));
 */
export class Tab extends TitledBox {
  constructor(children: Widget[] = [], opts: ControlOptions & { titles?: string[] } = {}) {
    super("TabModel", "Tab", children, { selected_index: children.length ? 0 : null, ...opts });
  }
}

/**
 * Folding sections, one per child.
 * @example
 * fl.show(new fl.widgets.Accordion([label, out], { titles: ["status", "output"] }));
 */
export class Accordion extends TitledBox {
  constructor(children: Widget[] = [], opts: ControlOptions & { titles?: string[] } = {}) {
    super("AccordionModel", "Accordion", children, opts);
  }
}
