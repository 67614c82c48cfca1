/**
 * Swagger decorators when `@nestjs/swagger` is installed, no-ops otherwise: hosts that serve an
 * OpenAPI document get these endpoints described, and hosts without swagger need nothing.
 * @internal
 */
type DecoratorFactory = (...args: any[]) => any;
const noop: DecoratorFactory = () => () => undefined;

function loadSwagger(): Record<string, DecoratorFactory> | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@nestjs/swagger');
  } catch {
    return undefined;
  }
}

const swagger = loadSwagger();
const pick = (name: string): DecoratorFactory => (swagger && typeof swagger[name] === 'function' ? swagger[name] : noop);

export const ApiTags = pick('ApiTags');
export const ApiOperation = pick('ApiOperation');
export const ApiResponse = pick('ApiResponse');
export const ApiProperty = pick('ApiProperty');
export const ApiPropertyOptional = pick('ApiPropertyOptional');
export const ApiQuery = pick('ApiQuery');
export const ApiParam = pick('ApiParam');
export const ApiProduces = pick('ApiProduces');
