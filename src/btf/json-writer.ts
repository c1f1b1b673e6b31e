/**
 * A JSON writer that produces byte-for-byte what bpftool's json_writer
 * (tools/bpf/bpftool/json_writer.c) produces, compact (-j) or pretty (-p):
 * 4-space indentation, "},{" between array elements, escapes only for
 * \t \n \r \f \b \\ and ". 64-bit integers are written exactly (bigint).
 */
export class JsonWriter {
  private out = "";
  private depth = 0;
  /** Separator to print before the next value: "" or ",". */
  private sep = "";

  constructor(private readonly pretty: boolean) {}

  private readonly indents: string[] = [];

  private eol(): void {
    if (!this.pretty) return;
    this.out += this.indents[this.depth] ??= "\n" + "    ".repeat(this.depth);
  }

  private eor(): void {
    this.out += this.sep;
    this.sep = ",";
  }

  private begin(c: string): void {
    this.eor();
    this.out += c;
    this.depth++;
    this.sep = "";
  }

  private end(c: string): void {
    this.depth--;
    if (this.sep !== "") this.eol();
    this.out += c;
    this.sep = ",";
  }

  startObject(): this {
    this.begin("{");
    return this;
  }

  endObject(): this {
    this.end("}");
    return this;
  }

  startArray(): this {
    this.begin("[");
    return this;
  }

  endArray(): this {
    this.end("]");
    return this;
  }

  name(name: string): this {
    this.eor();
    this.eol();
    this.sep = "";
    this.out += quote(name) + (this.pretty ? ": " : ":");
    return this;
  }

  string(value: string): this {
    this.eor();
    this.out += quote(value);
    return this;
  }

  number(value: number | bigint): this {
    this.eor();
    this.out += value.toString();
    return this;
  }

  /** A value written as given (bpftool's jsonw_printf). */
  raw(text: string): this {
    this.eor();
    this.out += text;
    return this;
  }

  bool(value: boolean): this {
    this.eor();
    this.out += value ? "true" : "false";
    return this;
  }

  field(name: string, value: string | number | bigint | boolean): this {
    this.name(name);
    if (typeof value === "string") return this.string(value);
    if (typeof value === "boolean") return this.bool(value);
    return this.number(value);
  }

  /** The document; bpftool ends it with a newline (jsonw_destroy). */
  toString(): string {
    return this.out + "\n";
  }
}

const NEEDS_ESCAPE = /[\t\n\r\f\b\\"]/;

function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let r = '"';
  for (const ch of s) {
    switch (ch) {
      case "\t": r += "\\t"; break;
      case "\n": r += "\\n"; break;
      case "\r": r += "\\r"; break;
      case "\f": r += "\\f"; break;
      case "\b": r += "\\b"; break;
      case "\\": r += "\\\\"; break;
      case '"': r += '\\"'; break;
      default: r += ch;
    }
  }
  return r + '"';
}
