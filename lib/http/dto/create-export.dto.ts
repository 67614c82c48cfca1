import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsBoolean, IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { EXPORT_FORMATS, ExportFormat } from '../../common/export-status.enum';
import { ApiPropertyOptional } from '../swagger.util';
import { EXPORT_KINDS, ExportKind } from '../../interfaces/export-principal.interface';

/**
 * Body of `POST /exports`. Every field is optional: the default is every category of the account, as ZIP.
 * @publicApi
 */
export class CreateExportDto {
  @ApiPropertyOptional({
    enum: EXPORT_KINDS,
    default: 'account',
    description: "'account': the whole account (owners and admins). 'personal': the data about one member: yourself (any role), or userId.",
  })
  @IsOptional()
  @IsIn(EXPORT_KINDS)
  kind?: ExportKind;

  @ApiPropertyOptional({ maxLength: 191, description: "With kind 'personal': the member to export on behalf of (owners and admins)." })
  @IsOptional()
  @IsString()
  @MaxLength(191)
  userId?: string;

  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: ExportFormat.Zip, description: 'Archive format.' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat | `${ExportFormat}`;

  @ApiPropertyOptional({ type: [String], description: 'Categories to include (default: all).' })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  categories?: string[];

  @ApiPropertyOptional({ format: 'date-time', description: 'Only rows at or after this time (categories with a timestamp).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only rows before this time.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;

  @ApiPropertyOptional({ default: false, description: 'Include soft-deleted rows.' })
  @IsOptional()
  @IsBoolean()
  includeDeleted?: boolean;
}

