// Which cells are only imports of typed packages — the usual first cell of a notebook
// (`import * as fl from "featurelab"`). Such a cell cannot fail to type-check, so the compiler thread
// may compile it before TypeScript has read the packages' declarations (~1,000 files for featurelab):
// its JavaScript and its declarations do not depend on the types it imports.
import { join } from "node:path";
import type { TS } from "./typescript.js";

/**
 * The packages a cell imports when the cell is nothing but namespace imports (`import * as x from
 * "pkg"`) and side-effect imports (`import "pkg"`) of packages whose types TypeScript finds as a
 * declaration file without `export =`; undefined for any other cell. Named and default imports are
 * left out (they name exports only the declarations know), as are relative files, builtins,
 * untyped packages and `export =` modules (a namespace import of one can be an error).
 */
export function typedPackageImports(ts: TS, src: string, cwd: string): string[] | undefined {
  const file = ts.createSourceFile("__cell__.ts", src, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  if (file.statements.length === 0) return undefined;
  const packages: string[] = [];
  for (const s of file.statements) {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier) || s.assertClause) return undefined;
    const clause = s.importClause;
    if (clause && (clause.isTypeOnly || clause.name || !clause.namedBindings || !ts.isNamespaceImport(clause.namedBindings))) return undefined;
    const name = s.moduleSpecifier.text;
    if (/^[./]|^node:/.test(name) || !hasDeclarations(ts, name, cwd)) return undefined;
    packages.push(name);
  }
  return packages;
}

function hasDeclarations(ts: TS, name: string, cwd: string): boolean {
  const options = { moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true, allowJs: true };
  const resolved = ts.resolveModuleName(name, join(cwd, "__tslab__.ts"), options, ts.sys).resolvedModule;
  if (!resolved || resolved.extension !== ts.Extension.Dts) return false;
  const text = ts.sys.readFile(resolved.resolvedFileName);
  return text !== undefined && !/\bexport\s*=/.test(text);
}
