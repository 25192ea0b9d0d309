<?php
/**
 * Removing the plugin removes its one setting.
 *
 * @package OpenConsult
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}
delete_option( 'openconsult_address' );
