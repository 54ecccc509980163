/**
 * Static checks of the k6 scripts, on the syntax tree (the TypeScript parser reading JavaScript):
 * which modules a script imports, and which functions it exports. k6 resolves `k6` and `k6/...`
 * modules itself and relative files from disk; anything else (Node built-ins, npm packages,
 * `require`, computed dynamic imports) does not exist in k6.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import ts from 'typescript';

export interface ModuleUse {
  specifier: string;
  form: 'import' | 'export from' | 'dynamic import' | 'require';
  line: number;
}

function parse(source: string, fileName: string): ts.SourceFile {
  return ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
}

/** Syntax errors of a JavaScript module, as "line: message". */
export function syntaxErrors(source: string, fileName: string): string[] {
  const output = ts.transpileModule(source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { allowJs: true, module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return (output.diagnostics ?? []).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/** Every module a source names: static imports, re-exports, dynamic import() and require(). */
export function moduleUses(source: string, fileName: string): ModuleUse[] {
  const file = parse(source, fileName);
  const uses: ModuleUse[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, form: ModuleUse['form']) => {
    const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
    const text =
      specifier && ts.isStringLiteralLike(specifier)
        ? specifier.text
        : `<computed: ${specifier?.getText(file)}>`;
    uses.push({ specifier: text, form, line });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, 'import');
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier)
      add(node, node.moduleSpecifier, 'export from');
    else if (ts.isCallExpression(node)) {
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword)
        add(node, node.arguments[0], 'dynamic import');
      else if (ts.isIdentifier(node.expression) && node.expression.text === 'require') {
        add(node, node.arguments[0], 'require');
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return uses;
}

/** Whether a specifier is one of k6's own modules: `k6` or `k6/<name>[/<name>...]`. */
export function isK6Module(specifier: string): boolean {
  return /^k6(\/[a-z0-9-]+)*$/.test(specifier);
}

/**
 * What in a k6 script k6 could not load, one line each: only static imports of k6 modules and of
 * `./<file>.js` files next to the script (which must exist) pass.
 */
export function k6ImportViolations(source: string, filePath: string): string[] {
  const violations = syntaxErrors(source, filePath).map((e) => `syntax error at line ${e}`);
  for (const use of moduleUses(source, filePath)) {
    const where = `${basename(filePath)}:${use.line}`;
    if (use.form !== 'import' && use.form !== 'export from') {
      violations.push(`${where}: ${use.form}('${use.specifier}') (k6 scripts use static imports)`);
    } else if (isK6Module(use.specifier)) {
      // k6 provides it
    } else if (/^\.\/[A-Za-z0-9_-]+\.js$/.test(use.specifier)) {
      if (!existsSync(join(dirname(filePath), use.specifier))) {
        violations.push(`${where}: '${use.specifier}' does not exist next to the script`);
      }
    } else {
      violations.push(`${where}: '${use.specifier}' is not a k6 module or a file of the k6 folder`);
    }
  }
  return violations;
}

/** Names a module exports: `export function f`, `export const x`, `export { a, b as c }`. */
export function exportedNames(source: string, fileName: string): string[] {
  const file = parse(source, fileName);
  const names: string[] = [];
  for (const statement of file.statements) {
    const exported = ts.canHaveModifiers(statement)
      ? (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
      : false;
    if (exported && ts.isFunctionDeclaration(statement) && statement.name) names.push(statement.name.text);
    if (exported && ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations)
        if (ts.isIdentifier(d.name)) names.push(d.name.text);
    }
    if (
      ts.isExportDeclaration(statement) &&
      statement.exportClause &&
      ts.isNamedExports(statement.exportClause)
    ) {
      for (const e of statement.exportClause.elements) names.push(e.name.text);
    }
  }
  return names;
}

/**
 * Syntax that k6 before v0.53 cannot parse (its Babel 6 transpiles every ES module), as
 * "line: what". Scripts free of it load on an old k6 far enough for their version check to say
 * what they need instead of failing on a SyntaxError.
 */
export function syntaxOldK6Rejects(source: string, fileName: string): string[] {
  const file = parse(source, fileName);
  const found: string[] = [];
  const at = (node: ts.Node, what: string) => {
    const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
    found.push(`${line}: ${what}`);
  };
  const visit = (node: ts.Node) => {
    if (
      (ts.isPropertyAccessExpression(node) ||
        ts.isElementAccessExpression(node) ||
        ts.isCallExpression(node)) &&
      node.questionDotToken
    ) {
      at(node, 'optional chaining (?.)');
    } else if (ts.isBinaryExpression(node)) {
      const operator = node.operatorToken.kind;
      if (operator === ts.SyntaxKind.QuestionQuestionToken) at(node, 'nullish coalescing (??)');
      if (
        operator === ts.SyntaxKind.QuestionQuestionEqualsToken ||
        operator === ts.SyntaxKind.BarBarEqualsToken ||
        operator === ts.SyntaxKind.AmpersandAmpersandEqualsToken
      ) {
        at(node, `logical assignment (${node.operatorToken.getText(file)})`);
      }
    } else if (ts.isSpreadAssignment(node)) {
      at(node, 'object spread ({ ...x })');
    } else if (ts.isBindingElement(node) && node.dotDotDotToken && ts.isObjectBindingPattern(node.parent)) {
      at(node, 'object rest ({ ...rest })');
    } else if (ts.isCatchClause(node) && !node.variableDeclaration) {
      at(node, 'catch without a binding');
    } else if (ts.isNumericLiteral(node) && node.getText(file).includes('_')) {
      at(node, 'numeric separator');
    } else if (node.kind === ts.SyntaxKind.BigIntLiteral) {
      at(node, 'BigInt literal');
    } else if (ts.isPropertyDeclaration(node) || ts.isPrivateIdentifier(node)) {
      at(node, 'class field');
    } else if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
      at(node, 'import.meta');
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}
